// Generator and Discriminator for BigGAN and BigGAN-deep (BigGAN.py, BigGANdeep.py),
// built from their option structs (model/options.h). Parameters and buffers carry BigGAN-PyTorch's state_dict
// names, so weights convert key for key.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "model/batch_norm.h"
#include "model/blocks.h"
#include "model/options.h"

namespace biggan::model {

struct GeneratorImpl : torch::nn::Module {
  explicit GeneratorImpl(const GeneratorOptions& options);
  // z: (N, dim_z); y: shared(labels) (N, shared_dim) when G_shared, else int64 labels (N,).
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& y);
  // The class conditioning the caller passes to forward (the original's G.shared): the shared
  // embedding, or the labels themselves when there is none.
  torch::Tensor shared(const torch::Tensor& labels);

  // Exact standing statistics: begin, run train-mode forwards, end; then use eval mode.
  void begin_standing_stats();
  void end_standing_stats();
  void set_stats_reducer(const StatsReducer& reducer);

  bool deep, hier, G_shared;
  MemoryLayout layout;  // of the activations between the first linear layer and the output
  // Whether forward runs NHWC activations on this device (nhwc_activations, model/options.h).
  bool uses_nhwc(const torch::Device& device) const;
  int dim_z, z_chunk_size, bottom_width;
  int n_classes, resolution;  // what samplers draw labels from and what G produces
  torch::nn::Embedding shared_embedding{nullptr};
  torch::nn::AnyModule linear;
  std::vector<std::vector<std::shared_ptr<torch::nn::Module>>> stages;  // [block, attention?]
  OutputBN output_bn{nullptr};
  torch::nn::AnyModule output_conv;
  Activation act;
};
TORCH_MODULE(Generator);

struct DiscriminatorImpl : torch::nn::Module {
  explicit DiscriminatorImpl(const DiscriminatorOptions& options);
  // x: (N, 3, R, R) in [-1, 1]; y: int64 labels (N,). Returns (N, 1).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y);
  // FreezeD: the layers from the input up to and including the `blocks`-th residual block
  // (BigGAN-deep's input conv and the attention between blocks included). Throws when D has
  // fewer residual blocks.
  std::vector<std::shared_ptr<torch::nn::Module>> lowest_layers(int blocks) const;
  int residual_blocks() const;

  bool deep;
  MemoryLayout layout;  // NHWC: the input converted first
  bool uses_nhwc(const torch::Device& device) const;
  torch::nn::AnyModule input_conv;  // BigGAN-deep only
  std::vector<std::vector<std::shared_ptr<torch::nn::Module>>> stages;
  torch::nn::AnyModule linear;
  SNEmbedding embed{nullptr};
  Activation act;
};
TORCH_MODULE(Discriminator);

// Re-initialises every Conv2d/Linear/Embedding weight (SN ones included) with `init`, like
// BigGAN-PyTorch's init_weights. Biases keep PyTorch's default init.
void init_weights(torch::nn::Module& net, WeightInit init);

std::int64_t parameter_count(const torch::nn::Module& net);

// Bytes of a module's parameters and of its buffers (BN statistics, SN vectors), as allocated.
struct StateBytes {
  std::uint64_t parameters = 0;
  std::uint64_t buffers = 0;
};
StateBytes state_bytes(const torch::nn::Module& net);

// The state_bytes of the network these options build, without building it: building touches
// every weight (its init), which for a network too large for the machine fills memory for minutes
// before the process is killed. Every tensor's size is a polynomial of degree at most 2 in the
// width `ch` (convolutions in x out) and at most 1 in each other size (dim_z's chunks,
// shared_dim, n_classes, the SN vectors' num_svs, BigGAN-deep's depth), so small networks built at a few values of
// each give it by interpolation: three at widths 8, 16 and 24, times two for each other size
// that is large. Exact where the channel counts divide as attention's C/8 and BigGAN-deep's C/4
// need (any width that is a multiple of 8), and within their rounding otherwise.
StateBytes estimated_state_bytes(const GeneratorOptions& options);
StateBytes estimated_state_bytes(const DiscriminatorOptions& options);

// Every singular value buffer (sv0, sv1, ...) by name, for logging.
std::vector<std::pair<std::string, float>> singular_values(const torch::nn::Module& net);

}  // namespace biggan::model
