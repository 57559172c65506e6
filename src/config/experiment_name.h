// Experiment names like BigGAN-PyTorch's utils.name_from_config (spec §11.1): same components
// in the same order, so our run folders line up with an existing BigGAN-PyTorch log collection.
#pragma once

#include <cstdint>
#include <string>

namespace biggan::config {

struct Config;

// The config-derived name (no experiment_name override, no hashname).
std::string name_from_config(const Config& config);
// adjective + gerund + Animal from a stable 64-bit hash of `name` (the original used Python's
// per-process randomised hash(), so its names changed from run to run).
std::string hash_name(const std::string& name);
// FNV-1a: stable across processes, machines and compilers.
std::uint64_t stable_hash(const std::string& text);

}  // namespace biggan::config
