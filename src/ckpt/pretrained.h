// Pretrained weights that a new run starts from (finetune.init_from, `biggan ckpt inspect`):
// a BigGAN-PyTorch weights folder (G.pth, D.pth, optional G_ema.pth, *_optim.pth and
// state_dict.pth; zip or legacy torch.save), one of our checkpoint folders, or a run folder (its
// newest valid checkpoint). Read once, at the start of the new run.
#pragma once

#include <optional>
#include <string>

#include "config/config.h"
#include "model/state_dict.h"

namespace biggan::ckpt {

struct Pretrained {
  enum class Kind { biggan_pytorch, checkpoint };
  Kind kind = Kind::checkpoint;
  std::string path;                      // the folder the weights were read from
  std::optional<config::Config> config;  // its architecture (resolved for 1 rank); none when unknown
  std::string config_source;             // where `config` came from, for messages
  model::StateDict G, D, G_ema;          // G_ema empty when there is none
  model::StateDict G_optim, D_optim;     // Adam state by parameter index; empty when none
  std::int64_t itr = 0;
};

// The folder to read for `path`: itself, or a run folder's newest valid checkpoint. Rank 0
// calls this and broadcasts the answer, so every rank reads the same weights. Throws naming
// `path` when it is none of the three kinds.
std::string resolve_pretrained(const std::string& path);

// Reads `path` (a run folder is resolved first). Throws naming it when unreadable.
Pretrained read_pretrained(const std::string& path);

// What a fine-tune would take from it: one "name: value" line each (biggan ckpt inspect).
std::string describe(const Pretrained& source);

}  // namespace biggan::ckpt
