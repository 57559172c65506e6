// Batch normalisation in G (BigGAN-PyTorch layers.py: ccbn, bn, myBN; sync_batchnorm).
//
// Every variant keeps the original's buffer names so weights convert key for key:
//   norm_style bn / in : stored_mean, stored_var on the layer itself
//   mybn               : child `bn` with stored_mean, stored_var, accumulation_counter
//   cross_replica      : child `bn` with running_mean, running_var, num_batches_tracked
//   gn / nonorm        : no buffers
// Differences from the original, on purpose:
//   - exact standing statistics for every variant (the original has them for mybn only);
//   - cross_replica's eval path multiplies by the gain (the original adds it: spec §4.1);
//   - gn works (the original raises AttributeError), with 16 groups as its groupnorm() intends.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>

#include "model/options.h"
#include "model/spectral_norm.h"

namespace biggan::model {

enum class NormKind { bn, in, gn, nonorm, mybn, cross_replica };
NormKind norm_kind(NormStyle norm_style, bool mybn, bool cross_replica);

// Sums per-channel statistics across ranks for cross-replica BN. Single process: identity.
// The distributed trainer installs an MPI/NCCL one whose backward also allreduces.
using StatsReducer = std::function<torch::Tensor(const torch::Tensor&)>;

// Layers whose statistics can be recomputed exactly: begin() zeroes them and makes train-mode
// forwards accumulate; end() turns the sums into means. Eval then uses them.
class StandingStats {
 public:
  virtual ~StandingStats() = default;
  virtual void begin_standing_stats() = 0;
  virtual void end_standing_stats() = 0;
};

// The normaliser inside ccbn/bn. Holds the statistics buffers, applies gain and bias.
class Normalizer {
 public:
  Normalizer(torch::nn::Module& owner, NormKind kind, std::int64_t channels, double eps, double momentum);
  // x: (N, C, H, W); gain, bias broadcastable to it.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& gain, const torch::Tensor& bias, bool training);
  void begin_standing();
  void end_standing();
  void set_reducer(StatsReducer reducer) { reducer_ = std::move(reducer); }

 private:
  torch::Tensor batch_norm_train(const torch::Tensor& x, torch::Tensor& mean_buf, torch::Tensor& var_buf,
                                 bool unbiased_running_var);

  NormKind kind_;
  double eps_;
  double momentum_;
  torch::Tensor mean_, var_;                  // stored_mean/stored_var or running_mean/running_var
  torch::Tensor counter_;                     // mybn: accumulation_counter
  torch::Tensor num_batches_tracked_;         // cross_replica
  std::shared_ptr<torch::nn::Module> child_;  // the `bn` child (mybn, cross_replica)
  bool accumulating_ = false;
  std::int64_t accumulated_ = 0;
  StatsReducer reducer_;
};

// Class-conditional BN: BN(x) * (1 + gain(y)) + bias(y). gain/bias are linear layers of the
// conditioning vector (shared embedding) or class embeddings (per-layer, not shared).
struct CCBNImpl : torch::nn::Module, StandingStats {
  CCBNImpl(std::int64_t channels, std::int64_t input_size, bool shared_conditioning, const LayerFactory& linear,
           NormKind kind, double eps);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& y);
  void begin_standing_stats() override { norm->begin_standing(); }
  void end_standing_stats() override { norm->end_standing(); }
  torch::nn::AnyModule gain, bias;
  std::unique_ptr<Normalizer> norm;
};
TORCH_MODULE(CCBN);

// G's output BN (`bn` in layers.py): plain affine gain/bias parameters, eps fixed at 1e-5.
struct OutputBNImpl : torch::nn::Module, StandingStats {
  OutputBNImpl(std::int64_t channels, NormKind kind, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  void begin_standing_stats() override { norm->begin_standing(); }
  void end_standing_stats() override { norm->end_standing(); }
  torch::Tensor gain, bias;
  std::unique_ptr<Normalizer> norm;
};
TORCH_MODULE(OutputBN);

}  // namespace biggan::model
