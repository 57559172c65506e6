#include "model/networks.h"

#include <algorithm>
#include <cmath>

#include "core/cpu_isa.h"
#include "core/error.h"
#include "model/architecture.h"

namespace biggan::model {

namespace {

// Registers blocks.<i>.<j> as the original's nested ModuleList.
void register_stages(torch::nn::Module& owner, const std::vector<std::vector<std::shared_ptr<torch::nn::Module>>>& stages) {
  auto outer = torch::nn::ModuleList();
  for (const auto& stage : stages) {
    auto inner = torch::nn::ModuleList();
    for (const auto& m : stage) inner->push_back(m);
    outer->push_back(inner);
  }
  owner.register_module("blocks", outer);
}

}  // namespace

GeneratorImpl::GeneratorImpl(const GeneratorOptions& o)
    : deep(o.architecture == Architecture::BigGANdeep),
      hier(o.hier),
      G_shared(o.shared),
      layout(o.layout),
      dim_z(o.dim_z),
      z_chunk_size(o.z_chunk_size),
      bottom_width(o.bottom_width),
      n_classes(o.n_classes),
      resolution(o.resolution),
      act(o.activation) {
  LayerFactory layers;
  layers.spectral = o.param == Parameterization::SN;
  layers.sn = o.sn;
  const int shared_dim = o.shared_dim;
  const auto arch = G_arch(o.ch, o.resolution);
  const NormKind kind = norm_kind(o.norm_style, o.mybn, o.cross_replica);

  CCBNFactory bn;
  bn.shared = G_shared;
  bn.linear = layers;
  bn.kind = kind;
  bn.eps = o.BN_eps;
  if (deep)
    bn.input_size = shared_dim + dim_z;
  else
    bn.input_size = G_shared ? shared_dim + z_chunk_size : o.n_classes;

  if (G_shared) shared_embedding = register_module("shared", torch::nn::Embedding(o.n_classes, shared_dim));
  const int num_slots = hier && !deep ? o.num_slots : 1;
  const std::int64_t linear_in = deep ? dim_z + shared_dim : dim_z / num_slots;
  linear = layers.linear(linear_in, static_cast<std::int64_t>(arch[0].in_channels) * bottom_width * bottom_width);
  register_module("linear", linear.ptr());

  for (const auto& s : arch) {
    if (!deep) {
      stages.push_back({std::make_shared<GBlockImpl>(s.in_channels, s.out_channels, layers, bn, act, s.resample,
                                                              o.fused_resampling)});
    } else {
      // G_depth blocks per stage, each its own outer entry; all but the last keep the channels
      // and resolution, the last upsamples and changes channels. For depth 2 this is exactly
      // the original; depth 1 and >= 3 crash there and work here.
      for (int d = 0; d < o.depth; ++d) {
        const bool last = d == o.depth - 1;
        stages.push_back({std::make_shared<DeepGBlockImpl>(s.in_channels, last ? s.out_channels : s.in_channels, layers,
                                                           bn, act, last && s.resample, o.fused_resampling)});
      }
    }
    if (has_attention(o.attention, s.resolution))
      stages.back().push_back(std::make_shared<AttentionImpl>(s.out_channels, layers));
  }
  register_stages(*this, stages);

  auto output = torch::nn::Sequential();
  output_bn = OutputBN(arch.back().out_channels, kind);
  output_conv = layers.conv(arch.back().out_channels, 3);
  output->push_back("0", output_bn);
  output->push_back("1", torch::nn::ReLU());
  output->push_back("2", output_conv);
  register_module("output_layer", output);

  if (!o.skip_init) init_weights(*this, o.init);
}

torch::Tensor GeneratorImpl::shared(const torch::Tensor& labels) {
  return G_shared ? shared_embedding->forward(labels) : labels;
}

bool GeneratorImpl::uses_nhwc(const torch::Device& device) const {
  return nhwc_activations(layout, device.is_cuda(), core::onednn_uses_avx512());
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& z_in, const torch::Tensor& y) {
  torch::Tensor z = z_in;
  std::vector<torch::Tensor> ys;
  if (deep) {
    // BigGAN-deep conditions everything on [y, z] (y first).
    z = torch::cat({y, z}, 1);
    ys.assign(stages.size(), z);
  } else if (hier) {
    const auto chunks = torch::split(z, z_chunk_size, 1);
    z = chunks[0];
    // The shared embedding comes first, then the block's z chunk (TF's order is reversed).
    for (std::size_t i = 1; i < chunks.size(); ++i) ys.push_back(torch::cat({y, chunks[i]}, 1));
  } else {
    ys.assign(stages.size(), y);
  }
  torch::Tensor h = linear.forward(z);
  h = h.view({h.size(0), -1, bottom_width, bottom_width});
  // Elementwise ops, BN, pooling and nearest upsampling keep the layout set here.
  if (uses_nhwc(h.device())) h = h.contiguous(torch::MemoryFormat::ChannelsLast);
  for (std::size_t i = 0; i < stages.size(); ++i) {
    for (const auto& block : stages[i]) {
      if (auto g = std::dynamic_pointer_cast<GBlockImpl>(block)) h = g->forward(h, ys[i]);
      else if (auto dg = std::dynamic_pointer_cast<DeepGBlockImpl>(block)) h = dg->forward(h, ys[i]);
      else h = std::static_pointer_cast<AttentionImpl>(block)->forward(h);
    }
  }
  h = activate(output_bn->forward(h), act);
  // Images leave G in NCHW order, whatever the layout inside: callers read their data.
  return torch::tanh(output_conv.forward(h)).contiguous();
}

void GeneratorImpl::begin_standing_stats() {
  for (const auto& m : modules(/*include_self=*/false))
    if (auto* s = dynamic_cast<StandingStats*>(m.get())) s->begin_standing_stats();
}

void GeneratorImpl::end_standing_stats() {
  for (const auto& m : modules(false))
    if (auto* s = dynamic_cast<StandingStats*>(m.get())) s->end_standing_stats();
}

void GeneratorImpl::set_stats_reducer(const StatsReducer& reducer) {
  for (const auto& m : modules(false)) {
    if (auto* ccbn = dynamic_cast<CCBNImpl*>(m.get())) ccbn->norm->set_reducer(reducer);
    if (auto* obn = dynamic_cast<OutputBNImpl*>(m.get())) obn->norm->set_reducer(reducer);
  }
}

DiscriminatorImpl::DiscriminatorImpl(const DiscriminatorOptions& o)
    : deep(o.architecture == Architecture::BigGANdeep), layout(o.layout), act(o.activation) {
  LayerFactory layers;  // D is always spectrally normalised
  layers.sn = o.sn;
  std::vector<StageSpec> arch;
  if (!deep) {
    arch = D_arch(o.ch, o.resolution);
    for (std::size_t i = 0; i < arch.size(); ++i) {
      const auto& s = arch[i];
      stages.push_back({std::make_shared<DBlockImpl>(s.in_channels, s.out_channels, layers, o.wide,
                                                     /*preactivation=*/i > 0, act, s.resample,
                                                     o.fused_resampling)});
      if (has_attention(o.attention, s.resolution))
        stages.back().push_back(std::make_shared<AttentionImpl>(s.out_channels, layers));
    }
  } else {
    arch = deep_D_arch(o.ch, o.resolution);
    input_conv = layers.conv(3, arch[0].in_channels);
    register_module("input_conv", input_conv.ptr());
    for (const auto& s : arch) {
      std::vector<std::shared_ptr<torch::nn::Module>> stage;
      for (int d = 0; d < o.depth; ++d)
        stage.push_back(std::make_shared<DeepDBlockImpl>(d == 0 ? s.in_channels : s.out_channels, s.out_channels, layers,
                                                         act, s.resample && d == 0));
      if (has_attention(o.attention, s.resolution)) stage.push_back(std::make_shared<AttentionImpl>(s.out_channels, layers));
      stages.push_back(stage);
    }
  }
  register_stages(*this, stages);
  linear = layers.linear(arch.back().out_channels, 1);
  register_module("linear", linear.ptr());
  embed = register_module("embed", SNEmbedding(o.n_classes, arch.back().out_channels, layers.sn));
  if (!o.skip_init) init_weights(*this, o.init);
}

bool DiscriminatorImpl::uses_nhwc(const torch::Device& device) const {
  return nhwc_activations(layout, device.is_cuda(), core::onednn_uses_avx512());
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& x, const torch::Tensor& y) {
  torch::Tensor h = uses_nhwc(x.device()) ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  if (deep) h = input_conv.forward(h);
  for (const auto& stage : stages) {
    for (const auto& block : stage) {
      if (auto b = std::dynamic_pointer_cast<DBlockImpl>(block)) h = b->forward(h);
      else if (auto db = std::dynamic_pointer_cast<DeepDBlockImpl>(block)) h = db->forward(h);
      else h = std::static_pointer_cast<AttentionImpl>(block)->forward(h);
    }
  }
  // Global sum pooling, then the projection term sum_c(embed(y) * h).
  h = torch::sum(activate(h, act), {2, 3});
  torch::Tensor out = linear.forward(h);
  return out + torch::sum(embed->forward(y) * h, 1, /*keepdim=*/true);
}

int DiscriminatorImpl::residual_blocks() const {
  int n = 0;
  for (const auto& stage : stages)
    for (const auto& m : stage) n += std::dynamic_pointer_cast<AttentionImpl>(m) ? 0 : 1;
  return n;
}

std::vector<std::shared_ptr<torch::nn::Module>> DiscriminatorImpl::lowest_layers(int blocks) const {
  if (blocks > residual_blocks())
    throw Error("cannot freeze " + std::to_string(blocks) + " residual blocks of D: it has " +
                std::to_string(residual_blocks()));
  std::vector<std::shared_ptr<torch::nn::Module>> out;
  if (blocks <= 0) return out;
  if (deep) out.push_back(input_conv.ptr());
  int seen = 0;
  for (const auto& stage : stages)
    for (const auto& m : stage) {
      if (seen == blocks) return out;
      const bool residual = !std::dynamic_pointer_cast<AttentionImpl>(m);
      if (residual) ++seen;
      out.push_back(m);
    }
  return out;
}

void init_weights(torch::nn::Module& net, WeightInit init) {
  torch::NoGradGuard no_grad;
  // modules(include_self) needs the module in a shared_ptr, which it is not yet inside its
  // constructor; collect self by hand.
  std::vector<torch::nn::Module*> all{&net};
  for (const auto& m : net.modules(/*include_self=*/false)) all.push_back(m.get());
  for (torch::nn::Module* m : all) {
    torch::Tensor w;
    if (auto* a = dynamic_cast<SNConv2dImpl*>(m)) w = a->weight;
    else if (auto* b = dynamic_cast<SNLinearImpl*>(m)) w = b->weight;
    else if (auto* e = dynamic_cast<SNEmbeddingImpl*>(m)) w = e->weight;
    else if (auto* cv = dynamic_cast<torch::nn::Conv2dImpl*>(m)) w = cv->weight;
    else if (auto* l = dynamic_cast<torch::nn::LinearImpl*>(m)) w = l->weight;
    else if (auto* em = dynamic_cast<torch::nn::EmbeddingImpl*>(m)) w = em->weight;
    if (!w.defined()) continue;
    switch (init) {
      case WeightInit::ortho: torch::nn::init::orthogonal_(w); break;
      case WeightInit::N02: w.normal_(0, 0.02); break;
      case WeightInit::glorot:
      case WeightInit::xavier: torch::nn::init::xavier_uniform_(w); break;
    }
  }
}

std::int64_t parameter_count(const torch::nn::Module& net) {
  std::int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

StateBytes state_bytes(const torch::nn::Module& net) {
  StateBytes bytes;
  for (const auto& p : net.parameters()) bytes.parameters += p.numel() * p.element_size();
  for (const auto& b : net.buffers()) bytes.buffers += b.numel() * b.element_size();
  return bytes;
}

namespace {

// Clamped below 2^64: a width near INT_MAX gives about 10^20 bytes.
std::uint64_t whole_bytes(double bytes) { return static_cast<std::uint64_t>(std::round(std::clamp(bytes, 0.0, 1.8e19))); }

// One size a network's tensors grow with, and the small values it is sampled at: 3 for the
// width (quadratic), 2 for the others (each enters every tensor's size at most linearly).
template <typename Options>
struct Axis {
  double value;
  std::vector<double> samples;
  void (*set)(Options&, int);
};

struct Sizes {
  double parameters = 0, buffers = 0;
};

// Lagrange interpolation over the tensor product of the axes' samples, evaluated at their values:
// exact for a polynomial of those degrees in each axis, cross terms included (the class
// embedding's n_classes x shared_dim, the SN vectors' num_svs x channels).
template <typename Net, typename Options>
Sizes interpolate(const Options& o, const std::vector<Axis<Options>>& axes, std::size_t first) {
  if (first == axes.size()) {
    const StateBytes built = state_bytes(*Net(o));
    return {static_cast<double>(built.parameters), static_cast<double>(built.buffers)};
  }
  const Axis<Options>& axis = axes[first];
  Sizes sum;
  for (std::size_t i = 0; i < axis.samples.size(); ++i) {
    double weight = 1;
    for (std::size_t j = 0; j < axis.samples.size(); ++j)
      if (j != i) weight *= (axis.value - axis.samples[j]) / (axis.samples[i] - axis.samples[j]);
    Options small = o;
    axis.set(small, static_cast<int>(axis.samples[i]));
    const Sizes part = interpolate<Net>(small, axes, first + 1);
    sum.parameters += weight * part.parameters;
    sum.buffers += weight * part.buffers;
  }
  return sum;
}

template <typename Net, typename Options>
StateBytes estimate(Options o, const std::vector<Axis<Options>>& axes) {
  o.skip_init = true;  // sizes only: no orthogonal init to pay for
  const Sizes sizes = interpolate<Net>(o, axes, 0);
  return {whole_bytes(sizes.parameters), whole_bytes(sizes.buffers)};
}

// Sizes other than the width are sampled only when large: at their usual values the three small
// networks stay small, and three builds cost milliseconds where 48 would cost seconds at every start.
constexpr int kSmallSize = 1024;
constexpr int kSmallNumSVs = 16;
constexpr int kSmallDepth = 8;  // BigGAN-deep's blocks per stage, each a module of its own

template <typename Options>
void add_axis_if_large(std::vector<Axis<Options>>& axes, int value, int small, void (*set)(Options&, int)) {
  if (value > small) axes.push_back({static_cast<double>(value), {1, 2}, set});
}

}  // namespace

StateBytes estimated_state_bytes(const GeneratorOptions& options) {
  using O = GeneratorOptions;
  std::vector<Axis<O>> axes{{static_cast<double>(options.ch), {8, 16, 24}, [](O& o, int v) { o.ch = v; }}};
  // The latent as chunks: dim_z stays a multiple of the hierarchical slots.
  add_axis_if_large<O>(axes, options.dim_z / options.num_slots, kSmallSize, [](O& o, int v) {
    o.dim_z = v * o.num_slots;
    if (o.z_chunk_size > 0) o.z_chunk_size = v;
  });
  add_axis_if_large<O>(axes, options.shared_dim, kSmallSize, [](O& o, int v) { o.shared_dim = v; });
  add_axis_if_large<O>(axes, options.n_classes, kSmallSize, [](O& o, int v) { o.n_classes = v; });
  add_axis_if_large<O>(axes, options.sn.num_svs, kSmallNumSVs, [](O& o, int v) { o.sn.num_svs = v; });
  add_axis_if_large<O>(axes, options.depth, kSmallDepth, [](O& o, int v) { o.depth = v; });
  return estimate<Generator>(options, axes);
}

StateBytes estimated_state_bytes(const DiscriminatorOptions& options) {
  using O = DiscriminatorOptions;
  std::vector<Axis<O>> axes{{static_cast<double>(options.ch), {8, 16, 24}, [](O& o, int v) { o.ch = v; }}};
  add_axis_if_large<O>(axes, options.n_classes, kSmallSize, [](O& o, int v) { o.n_classes = v; });
  add_axis_if_large<O>(axes, options.sn.num_svs, kSmallNumSVs, [](O& o, int v) { o.sn.num_svs = v; });
  add_axis_if_large<O>(axes, options.depth, kSmallDepth, [](O& o, int v) { o.depth = v; });
  return estimate<Discriminator>(options, axes);
}

std::vector<std::pair<std::string, float>> singular_values(const torch::nn::Module& net) {
  std::vector<std::pair<std::string, float>> out;
  for (const auto& b : net.named_buffers()) {
    const std::string& name = b.key();
    const auto dot = name.rfind('.');
    const std::string leaf = dot == std::string::npos ? name : name.substr(dot + 1);
    if (leaf.size() >= 3 && leaf.compare(0, 2, "sv") == 0) out.emplace_back(name, b.value().item<float>());
  }
  return out;
}

}  // namespace biggan::model
