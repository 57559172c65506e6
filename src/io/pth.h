// PyTorch `.pth` files (torch.save) without Python: the zip format of torch >= 1.6 and the
// legacy (pre-1.6) format in which BigGAN-PyTorch's released checkpoints are stored.
//
// LibTorch's own torch::pickle_load rejects both a state_dict() (a collections.OrderedDict with
// `_metadata`) and the legacy format, so we unpickle ourselves: a small pickle machine that
// builds plain values, dicts, lists, tuples and tensors, and keeps any other Python object
// (nn.ReLU in a BigGAN-PyTorch state_dict.pth config, say) as an opaque record instead of failing.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace biggan::io {

struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { none, boolean, integer, floating, string, bytes, tuple, list, dict, tensor, global, object };
  Kind kind = Kind::none;
  bool boolean = false;
  std::int64_t integer = 0;
  double floating = 0;
  std::string text;                              // string, bytes; "module.name" for global/object
  std::vector<PyRef> items;                      // tuple, list; constructor arguments for object
  std::vector<std::pair<PyRef, PyRef>> entries;  // dict (insertion order)
  torch::Tensor tensor;
  PyRef state;  // what BUILD set (object attributes, an OrderedDict's _metadata)
  int depth = 0;  // how deeply values nest inside this one (the reader bounds it)

  std::string describe() const;  // "dict", "tensor", "object torch.nn.modules.activation.ReLU", ...
};

// Reads a whole .pth file. `path` appears in every error.
PyRef read_pth(const std::string& path);

// A state_dict file: its top level must map strings to tensors (a dict or an OrderedDict).
// Keys keep the file's order.
std::vector<std::pair<std::string, torch::Tensor>> read_pth_state_dict(const std::string& path);

// Plain values as JSON (tensors and opaque objects become null): BigGAN-PyTorch's
// state_dict.pth `config` entry becomes the flags dict that config::overrides_from_biggan_pytorch reads.
nlohmann::json to_json(const PyValue& value);

// The `config` dict of a BigGAN-PyTorch state_dict.pth, as JSON.
nlohmann::json read_biggan_pytorch_config(const std::string& state_dict_path);
// The config YAML text that our own `ckpt export` stores as state_dict.pth's "config"; "" when
// the entry is BigGAN-PyTorch's dict (or missing).
std::string read_exported_config_yaml(const std::string& state_dict_path);

// Writes a {name: tensor} dict in the zip format that Python's torch.load reads (as a dict, which
// nn.Module.load_state_dict accepts). Written atomically.
void write_pth_state_dict(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& entries);

}  // namespace biggan::io
