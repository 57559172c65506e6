// Fine-tuning: a new run whose networks start from pretrained ones (finetune.*). Everything
// that is not indexed by class must have the same shape as in SOURCE (the architecture check
// names each setting that differs); the class-indexed tensors start as finetune.class_init says.
#pragma once

#include <string>
#include <vector>

#include "ckpt/pretrained.h"
#include "config/config.h"
#include "train/gan_step.h"

namespace biggan::train {

// The settings that change a tensor other than the class-indexed ones, where SOURCE and this
// run differ: "model.G_ch: 96 in SOURCE, 64 here".
std::vector<std::string> architecture_differences(const config::Config& source, const config::Config& run);

// A tensor with one row (or column) per class: G's shared embedding or, without one, every
// ccbn's gain and bias embedding; D's projection embedding and its SN vectors (u, along dim 1).
struct ClassTensor {
  std::string key;
  int dim = 0;
  bool sn_vector = false;  // an SN u: a copy when the classes are the same, else a fresh vector
};
std::vector<ClassTensor> class_indexed_tensors(const torch::nn::Module& net);

// The new run's rows of one class-indexed tensor: `pretrained` has SOURCE's classes along
// `dim`, `fresh` this run's (from its own init, kept for random). `init` is resolved (not
// automatic). Errors name `key` and the offending class_map entry.
torch::Tensor initial_class_rows(const torch::Tensor& pretrained, const torch::Tensor& fresh, int dim,
                                 config::ClassInit init, const config::ClassMap& map, const std::string& key);

// Throws listing every architecture_differences() line (nothing to check when SOURCE has no config).
void check_architecture(const ckpt::Pretrained& source, const config::Config& run);

// class_init automatic resolved: copy when the class counts agree, else an error that names the
// three choices.
config::ClassInit resolve_class_init(const config::FinetuneConfig& finetune, int source_classes, int classes);

// Loads SOURCE into a freshly built Gan (every rank the same): G, D, G_ema (SOURCE's or a copy
// of G), SN and BN buffers, the class-indexed tensors per class_init, and with keep_optimizer
// the Adam states. Throws on any disagreement, naming the setting or tensor.
void start_from_pretrained(Gan& gan, const ckpt::Pretrained& source, const config::Config& config);

}  // namespace biggan::train
