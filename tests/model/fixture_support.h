// Access to ../shared/fixtures (BigGAN-PyTorch's own tensors). Tests skip with a message when
// the folder is absent (a user's clone); CI has it.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "config/biggan_pytorch_flags.h"
#include "config/config.h"
#include "io/h5_tensors.h"

namespace biggan::testing {

inline std::string fixtures_dir() { return std::string(BIGGAN_SHARED_DIR) + "/fixtures"; }
inline std::string reference_dir() { return std::string(BIGGAN_SHARED_DIR) + "/reference"; }

#define BIGGAN_REQUIRE_FIXTURES()                                                                        \
  do {                                                                                                   \
    if (!std::filesystem::exists(::biggan::testing::fixtures_dir()))                                    \
      GTEST_SKIP() << "BigGAN-PyTorch fixtures not found at " << ::biggan::testing::fixtures_dir()      \
                   << " (present in CI; a plain clone has no ../shared)";                               \
  } while (0)

// The resolved config of a fixture, from the flags BigGAN-PyTorch itself used.
inline config::Config fixture_config(const std::string& name) {
  std::ifstream in(fixtures_dir() + "/" + name + "/info.json");
  const auto info = nlohmann::json::parse(in);
  auto overrides = config::overrides_from_biggan_pytorch(info.at("config"));
  overrides.push_back("model.skip_init=true");
  return config::load({}, overrides, 1);
}

// max |a - b| / max |b|: the relative error used throughout the parity tests.
inline double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-12);
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>() / scale;
}

}  // namespace biggan::testing
