// state_dicts: BigGAN-PyTorch-named tensors of a module (parameters and buffers), and strict
// or lenient loading with errors that list every offending key.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace biggan::model {

using StateDict = std::map<std::string, torch::Tensor>;

StateDict state_dict(const torch::nn::Module& net);

struct LoadReport {
  std::vector<std::string> missing;     // in the module, not in the dict
  std::vector<std::string> unexpected;  // in the dict, not in the module
};

// Copies values into the module. Strict: any missing or unexpected key is an error naming them
// all. Lenient (TFHub-converted G files lack sv*): only missing `sv*` keys are tolerated, and
// unexpected keys are reported. Shape mismatches are always errors. `source` names the file.
LoadReport load_state_dict(torch::nn::Module& net, const StateDict& dict, bool strict, const std::string& source);

}  // namespace biggan::model
