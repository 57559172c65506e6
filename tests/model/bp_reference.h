// BigGAN-PyTorch's own tensors on configurations the stored fixtures do not cover, made on the
// fly by tests/model/bp_configs.py with the unmodified repository in ../shared/reference/bp-bench
// and Debian's python3-torch: once per test process (about 35 s), into a temporary folder that
// is removed at exit. Tests skip, saying which, where either is missing.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "config/biggan_pytorch_flags.h"
#include "config/config.h"
#include "fixture_support.h"
#include "model/state_dict.h"

namespace biggan::testing {

struct BpReference {
  std::string folder;       // holds one sub-folder per configuration
  std::string skip_reason;  // non-empty: the tests skip with it
  std::string failure;      // non-empty: BigGAN-PyTorch's side failed; the tests fail with it
  ~BpReference() {
    std::error_code ec;
    if (!folder.empty()) std::filesystem::remove_all(folder, ec);
  }
};

inline BpReference make_bp_reference() {
  namespace fs = std::filesystem;
  BpReference r;
  const std::string bench = reference_dir() + "/bp-bench";
  if (!fs::exists(bench + "/bench_bp.py")) {
    r.skip_reason = bench + " not found (present in CI; a plain clone has no ../shared)";
    return r;
  }
  if (std::system("/usr/bin/python3 -c 'import torch, h5py' >/dev/null 2>&1") != 0) {
    r.skip_reason = "/usr/bin/python3 has no torch or h5py (apt-get install python3-torch python3-h5py)";
    return r;
  }
  std::string pattern = (fs::temp_directory_path() / "biggan_bp_configs.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    r.failure = "cannot create a temporary folder";
    return r;
  }
  r.folder = pattern;
  const std::string command = "/usr/bin/python3 " + std::string(BIGGAN_SOURCE_DIR) + "/tests/model/bp_configs.py " +
                              bench + " " + r.folder + " > " + r.folder + "/python.log 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::ifstream log(r.folder + "/python.log");
    r.failure = "BigGAN-PyTorch's side failed: " + command + "\n" +
                std::string(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>());
  }
  return r;
}

inline const BpReference& bp_reference() {
  static const BpReference reference = make_bp_reference();
  return reference;
}

// Our config for a reference configuration, from BigGAN-PyTorch's resolved flags (as
// `biggan generate --biggan-pytorch-state` reads them).
inline config::Config bp_reference_config(const std::string& name) {
  std::ifstream in(bp_reference().folder + "/" + name + "/info.json");
  auto overrides = config::overrides_from_biggan_pytorch(nlohmann::json::parse(in).at("config"));
  overrides.push_back("model.skip_init=true");
  return config::load({}, overrides, 1);
}

// Each tensor of `theirs` against the same key of `ours`, as max |difference| over the largest
// element of all of `theirs`: a tensor of tiny values (a gradient zero by theory) may differ by
// more than its own size in rounding, which no user can see. Fails every tensor at or above
// `tolerance` and any key `ours` lacks; `skip` names tensors left out. Returns the worst.
inline double expect_close_to_largest(const model::StateDict& ours, const model::StateDict& theirs, double tolerance,
                                      const std::string& what, const std::set<std::string>& skip = {}) {
  double scale = 0;
  for (const auto& [key, value] : theirs) scale = std::max(scale, value.abs().max().item<double>());
  EXPECT_GT(scale, 0) << what;
  double worst = 0;
  for (const auto& [key, value] : theirs) {
    if (skip.count(key)) continue;
    if (!ours.count(key)) {
      ADD_FAILURE() << what << " " << key << ": ours has none";
      continue;
    }
    const double error =
        (ours.at(key).to(torch::kDouble) - value.to(torch::kDouble)).abs().max().item<double>() / scale;
    EXPECT_LT(error, tolerance) << what << " " << key;
    worst = std::max(worst, error);
  }
  return worst;
}

// Skips or fails the calling test (use in SetUp) when the reference could not be made.
#define BIGGAN_REQUIRE_BP_REFERENCE()                                                   \
  do {                                                                                  \
    const auto& biggan_reference_ = ::biggan::testing::bp_reference();                 \
    if (!biggan_reference_.skip_reason.empty()) GTEST_SKIP() << biggan_reference_.skip_reason; \
    ASSERT_TRUE(biggan_reference_.failure.empty()) << biggan_reference_.failure;        \
  } while (0)

}  // namespace biggan::testing
