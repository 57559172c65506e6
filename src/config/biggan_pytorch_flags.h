// BigGAN-PyTorch's config dict (argparse flags, as stored in its state_dict.pth or printed to
// JSON) into our config: every key that our sections share by name is carried over.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "config/config.h"

namespace biggan::config {

// "section.key=value" overrides for every flag we know; flags with no equivalent are skipped
// and listed in `skipped` (when given).
std::vector<std::string> overrides_from_biggan_pytorch(const nlohmann::json& flags,
                                                       std::vector<std::string>* skipped = nullptr);

}  // namespace biggan::config
