// Every config key has a reader: a key that nothing reads is a promise the program does not
// keep (a user sets it and nothing changes). Each key must be read as a member (".key" or
// "->key") somewhere in src/ or apps/ outside src/config (src/config/module_options.cpp, which
// hands keys to the modules' option structs, counts as outside), or be listed below with the
// place in src/config that gives it its effect.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "config/config.h"

namespace biggan::config {
namespace {

namespace fs = std::filesystem;

struct KeyNames {
  std::vector<std::string>& out;
  std::string section;
  template <class T>
  void operator()(const char* name, T&) { out.push_back(section + "." + name); }
};

// Keys whose effect is in the config layer itself (derived values, validation of the one value
// BigGAN-PyTorch supports, the experiment name).
const std::map<std::string, std::string> kReadByConfig = {
    {"paths.runs_root", "config.cpp: derived.runs_root"},
    {"paths.name_suffix", "experiment_name.cpp: the run name"},
    {"paths.hashname", "config.cpp: the hashed run name"},
    {"model.D_param", "config.cpp: only SN (the original crashes otherwise)"},
    {"train.which_train_fn", "config.cpp: only GAN; experiment_name.cpp"},
};

TEST(ConfigKeys, EveryKeyHasAReaderOutsideTheConfigLayer) {
  std::string code;
  for (const std::string root : {"src", "apps"})
    for (const auto& f : fs::recursive_directory_iterator(std::string(BIGGAN_SOURCE_DIR) + "/" + root)) {
      const std::string path = f.path().string();
      const bool config_layer = path.find("/src/config/") != std::string::npos &&
                                path.find("/src/config/module_options.cpp") == std::string::npos;
      if (!f.is_regular_file() || config_layer) continue;
      std::ifstream in(path);
      std::stringstream text;
      text << in.rdbuf();
      code += text.str();
    }
  ASSERT_GT(code.size(), 100000u) << "sources not found under " << BIGGAN_SOURCE_DIR;
  Config c;
  std::vector<std::string> keys;
  for_each_section(c, [&](const char* section, auto& s) { s.visit(KeyNames{keys, section}); });
  std::vector<std::string> unread;
  for (const auto& key : keys) {
    const std::string field = key.substr(key.find('.') + 1);
    if (kReadByConfig.count(key)) continue;
    if (!std::regex_search(code, std::regex("(\\.|->)" + field + "\\b"))) unread.push_back(key);
  }
  std::string list;
  for (const auto& k : unread) list += " " + k;
  EXPECT_TRUE(unread.empty()) << "config keys that nothing reads:" << list;
  // The allow-list stays true: each key in it is still a key.
  for (const auto& [key, why] : kReadByConfig) EXPECT_NE(std::find(keys.begin(), keys.end(), key), keys.end()) << key;
}

}  // namespace
}  // namespace biggan::config
