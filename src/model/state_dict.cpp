#include "model/state_dict.h"

#include <filesystem>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/h5_tensors.h"
#include "io/pth.h"

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
enum class WeightFormat { pth, hdf5 };
WeightFormat weight_format(const std::string& path) {
  const auto ends_with = [&](const std::string& suffix) {
    return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(".pth") || ends_with(".pt")) return WeightFormat::pth;
  if (ends_with(".h5") || ends_with(".hdf5")) return WeightFormat::hdf5;
  throw Error(path + ": unknown weights format (expected a .pth/.pt or .h5/.hdf5 file name)");
}
void append_ordered(const torch::nn::Module& module, const std::string& prefix,
                    std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& child : module.named_children()) append_ordered(*child.value(), prefix + child.key() + ".", out);
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

std::vector<std::pair<std::string, torch::Tensor>> ordered_state_dict(const torch::nn::Module& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  append_ordered(net, "", out);
  return out;
}

StateDict read_weights_file(const std::string& path) {
  if (weight_format(path) == WeightFormat::hdf5) return io::H5File(path, io::H5File::Mode::read).read_group("/");
  StateDict dict;
  for (auto& [key, tensor] : io::read_pth_state_dict(path)) dict[key] = tensor;
  return dict;
}

LoadReport load_weights_file(torch::nn::Module& net, const std::string& path, bool strict) {
  return load_state_dict(net, read_weights_file(path), strict, path);
}

void save_weights_file(const torch::nn::Module& net, const std::string& path) {
  const auto entries = ordered_state_dict(net);
  if (weight_format(path) == WeightFormat::pth) {
    io::write_pth_state_dict(path, entries);
    return;
  }
  io::write_h5_atomically(path, [&](io::H5File& file) {
    for (const auto& [key, tensor] : entries) file.write(key, tensor.detach().cpu().contiguous());
  });
}

}  // namespace biggan::model
