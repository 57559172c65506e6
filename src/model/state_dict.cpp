#include "model/state_dict.h"

#include <sstream>

#include "core/error.h"

namespace biggan::model {

namespace {
std::string shape_text(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}
std::string list_text(const std::vector<std::string>& keys) {
  std::string s;
  for (std::size_t i = 0; i < keys.size() && i < 20; ++i) s += (i ? ", " : "") + keys[i];
  if (keys.size() > 20) s += ", ... (" + std::to_string(keys.size()) + " in all)";
  return s;
}
bool is_sv_key(const std::string& key) {
  const auto dot = key.rfind('.');
  const std::string leaf = dot == std::string::npos ? key : key.substr(dot + 1);
  return leaf.size() > 2 && leaf.compare(0, 2, "sv") == 0;
}
}  // namespace

StateDict state_dict(const torch::nn::Module& net) {
  StateDict out;
  for (const auto& p : net.named_parameters()) out[p.key()] = p.value();
  for (const auto& b : net.named_buffers()) out[b.key()] = b.value();
  return out;
}

LoadReport load_state_dict(torch::nn::Module& net, const StateDict& dict, bool strict, const std::string& source) {
  StateDict own = state_dict(net);
  LoadReport report;
  std::vector<std::string> shape_errors;
  for (const auto& [key, target] : own) {
    const auto it = dict.find(key);
    if (it == dict.end()) {
      report.missing.push_back(key);
      continue;
    }
    if (it->second.sizes() != target.sizes())
      shape_errors.push_back(key + " (file " + shape_text(it->second) + ", model " + shape_text(target) + ")");
  }
  for (const auto& [key, value] : dict)
    if (!own.count(key)) report.unexpected.push_back(key);

  std::vector<std::string> fatal_missing;
  for (const auto& k : report.missing)
    if (strict || !is_sv_key(k)) fatal_missing.push_back(k);
  std::string problems;
  if (!shape_errors.empty()) problems += "\n  shape mismatch: " + list_text(shape_errors);
  if (!fatal_missing.empty()) problems += "\n  missing keys: " + list_text(fatal_missing);
  if (strict && !report.unexpected.empty()) problems += "\n  unexpected keys: " + list_text(report.unexpected);
  if (!problems.empty())
    throw Error(source + ": weights do not fit this model (check the config: resolution, widths, G_shared, hier, "
                         "attention, num_SVs):" + problems);

  torch::NoGradGuard no_grad;
  for (auto& [key, target] : own) {
    const auto it = dict.find(key);
    if (it != dict.end()) target.copy_(it->second.to(target.dtype()));
  }
  return report;
}

}  // namespace biggan::model
