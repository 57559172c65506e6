#include "train/memory_check.h"

#include <cstdio>
#include <string>
#include <vector>

#include "config/module_options.h"
#include "core/error.h"
#include "model/networks.h"

namespace biggan::train {

namespace {

struct NetworkOptions {
  model::GeneratorOptions G;
  model::DiscriminatorOptions D;
};

struct Need {
  model::StateBytes G, D;
  double per_rank = 0;
};

Need need_of(const NetworkOptions& o, bool trains_on_cpu, bool ema) {
  Need n;
  n.G = model::estimated_state_bytes(o.G);
  n.D = model::estimated_state_bytes(o.D);
  const double G_parameters = static_cast<double>(n.G.parameters), D_parameters = static_cast<double>(n.D.parameters);
  const double G_bytes = G_parameters + static_cast<double>(n.G.buffers);
  const double D_bytes = D_parameters + static_cast<double>(n.D.buffers);
  n.per_rank = G_bytes + D_bytes;
  if (trains_on_cpu) {
    n.per_rank += 3.0 * (G_parameters + D_parameters);  // the gradient and Adam's exp_avg and exp_avg_sq
    if (ema) n.per_rank += G_bytes;
  }
  return n;
}

// A size that can make the networks this large, and a usual value for it (a value of 0: a key
// this architecture does not read).
struct Suspect {
  std::string key;
  int value;
  int usual;
  void (*set)(NetworkOptions&, int);
};

// The key whose usual value would shrink the need the most: a typo is usually one value.
const Suspect& culprit(const std::vector<Suspect>& suspects, const NetworkOptions& o, bool trains_on_cpu, bool ema) {
  const Suspect* worst = &suspects.front();
  double least = -1;
  for (const auto& s : suspects) {
    if (s.value <= s.usual) continue;
    NetworkOptions usual = o;
    s.set(usual, s.usual);
    const double need = need_of(usual, trains_on_cpu, ema).per_rank;
    if (least < 0 || need < least) {
      least = need;
      worst = &s;
    }
  }
  return *worst;
}

// Parameters are fp32 on every device (bf16 is autocast's, for activations).
std::string parameter_text(std::uint64_t bytes_of_parameters) {
  const double count = static_cast<double>(bytes_of_parameters) / sizeof(float);
  if (count < 1e7) return std::to_string(static_cast<long long>(count));
  char text[32];
  std::snprintf(text, sizeof text, "%.3g", count);
  return text;
}

}  // namespace

void check_networks_fit(const config::Config& config, bool trains_on_cpu, int ranks_on_node,
                        const core::HostMemory& available) {
  const NetworkOptions o{config::generator_options(config), config::discriminator_options(config)};
  const bool ema = config.train.ema;
  const Need need = need_of(o, trains_on_cpu, ema);
  const double total = need.per_rank * ranks_on_node;
  if (total <= static_cast<double>(available.available_bytes)) return;

  const auto& m = config.model;
  const std::vector<Suspect> suspects{
      {"model.G_ch", m.G_ch, 64, [](NetworkOptions& n, int v) { n.G.ch = v; }},
      {"model.D_ch", m.D_ch, 64, [](NetworkOptions& n, int v) { n.D.ch = v; }},
      {"model.dim_z", o.G.dim_z, 128 * o.G.num_slots,
       [](NetworkOptions& n, int v) {
         n.G.dim_z = v;
         if (n.G.z_chunk_size > 0) n.G.z_chunk_size = v / n.G.num_slots;
       }},
      {"model.shared_dim", o.G.shared_dim, 128, [](NetworkOptions& n, int v) { n.G.shared_dim = v; }},
      {"data.n_classes", o.G.n_classes, 1000, [](NetworkOptions& n, int v) { n.G.n_classes = n.D.n_classes = v; }},
      {"model.num_G_SVs", m.num_G_SVs, 1, [](NetworkOptions& n, int v) { n.G.sn.num_svs = v; }},
      {"model.num_D_SVs", m.num_D_SVs, 1, [](NetworkOptions& n, int v) { n.D.sn.num_svs = v; }},
      {"model.G_depth", o.G.architecture == model::Architecture::BigGANdeep ? m.G_depth : 0, 2,
       [](NetworkOptions& n, int v) { n.G.depth = v; }},
      {"model.D_depth", o.D.architecture == model::Architecture::BigGANdeep ? m.D_depth : 0, 2,
       [](NetworkOptions& n, int v) { n.D.depth = v; }},
  };
  const Suspect& key = culprit(suspects, o, trains_on_cpu, ema);
  const std::string what = trains_on_cpu ? std::string("G's and D's weights, buffers, gradients and Adam's two moments") +
                                               (ema ? ", and G_ema" : "")
                                         : "G's and D's weights and buffers as built on the host";
  const std::string ranks = ranks_on_node > 1 ? " for the " + std::to_string(ranks_on_node) + " ranks on this node" : "";
  throw ConfigError(config.where(key.key), key.key,
                    std::to_string(key.value) + " makes G and D too large for this machine: " + what + " need " +
                        core::format_bytes(total) + ranks + " before any activation (G: " +
                        parameter_text(need.G.parameters) + " parameters, D: " + parameter_text(need.D.parameters) +
                        "), but " + core::format_bytes(static_cast<double>(available.available_bytes)) +
                        " is available (" + available.source + ")");
}

}  // namespace biggan::train
