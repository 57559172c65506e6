// Checkpoints to and from BigGAN-PyTorch weights folders (utils.save_weights / load_weights):
// G.pth, D.pth, G_ema.pth, G_optim.pth, D_optim.pth, state_dict.pth.
#pragma once

#include <string>

#include "ckpt/checkpoint.h"
#include "config/config.h"

namespace biggan::ckpt {

// Reads a weights folder into checkpoint contents for `config` (which must describe the same
// architecture; strict key and shape checks). Missing optimizer files give fresh optimizers;
// a missing G_ema.pth copies G. The sampler starts a new epoch at the saved iteration.
Contents import_biggan_pytorch(const std::string& weights_dir, const config::Config& config);

// A torch.optim.Adam state_dict file as our "<i>.step/exp_avg/exp_avg_sq" entries.
model::StateDict read_biggan_pytorch_adam(const std::string& path);

// Writes the folder BigGAN-PyTorch's load_weights reads: state_dicts in torch.save's zip
// format, Adam states in torch.optim's layout, and the counters in state_dict.pth.
void export_biggan_pytorch(const Contents& contents, const config::Config& config, const std::string& out_dir);

}  // namespace biggan::ckpt
