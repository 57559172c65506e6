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

// The entries in PyTorch's state_dict() order: each module's parameters, then its buffers, then
// its children, depth first. Exported files list keys exactly as BigGAN-PyTorch's do.
std::vector<std::pair<std::string, torch::Tensor>> ordered_state_dict(const torch::nn::Module& net);

// Weight files by extension: `.pth`/`.pt` (BigGAN-PyTorch, zip or legacy torch.save) or
// `.h5`/`.hdf5` (one dataset per key at the root, as our checkpoints store them).
StateDict read_weights_file(const std::string& path);
LoadReport load_weights_file(torch::nn::Module& net, const std::string& path, bool strict);
// Writes `.pth` (readable by torch.load, accepted by load_state_dict(strict=True)) or `.h5`.
void save_weights_file(const torch::nn::Module& net, const std::string& path);

}  // namespace biggan::model
