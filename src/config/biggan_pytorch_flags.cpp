#include "config/biggan_pytorch_flags.h"

#include <set>

namespace biggan::config {

namespace {
struct KeyLister {
  std::vector<std::string>& out;
  template <class T>
  void operator()(const char* name, T&) { out.push_back(name); }
};
}  // namespace

std::vector<std::string> overrides_from_biggan_pytorch(const nlohmann::json& flags, std::vector<std::string>* skipped) {
  // Same name, different meaning or not ours: never carried over.
  static const std::set<std::string> excluded = {"pbar", "base_root", "data_root", "experiment_name"};
  std::vector<std::string> overrides;
  std::set<std::string> used;
  Config c;
  for_each_section(c, [&](const char* section, auto& s) {
    std::vector<std::string> keys;
    s.visit(KeyLister{keys});
    for (const auto& key : keys) {
      if (excluded.count(key) || !flags.contains(key)) continue;
      const auto& v = flags.at(key);
      std::string text;
      if (v.is_boolean()) text = v.get<bool>() ? "true" : "false";
      else if (v.is_number_integer()) text = std::to_string(v.get<long long>());
      else if (v.is_number()) text = v.dump();
      else if (v.is_string()) text = "\"" + v.get<std::string>() + "\"";
      else continue;
      overrides.push_back(std::string(section) + "." + key + "=" + text);
      used.insert(key);
    }
  });
  if (flags.contains("G_fp16") && flags.at("G_fp16").is_boolean() && flags.at("G_fp16").get<bool>())
    overrides.push_back("model.G_precision=bf16");
  if (flags.contains("D_fp16") && flags.at("D_fp16").is_boolean() && flags.at("D_fp16").get<bool>())
    overrides.push_back("model.D_precision=bf16");
  if (skipped)
    for (const auto& item : flags.items())
      if (!used.count(item.key())) skipped->push_back(item.key());
  return overrides;
}

}  // namespace biggan::config
