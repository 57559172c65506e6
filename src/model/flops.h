// Multiply-adds of G's and D's forward passes counted from the layer shapes, and the FLOPs of a
// training iteration built from them, for throughput and model-FLOPs-utilisation figures
// (bench/train_bench.cpp). Convolutions, linear layers and attention's two batched products are
// counted; elementwise work (BN, activations, pooling, D's projection sum) and SN's power
// iteration (independent of the batch) are not.
#pragma once

#include <cstdint>

#include "model/options.h"

namespace biggan::model {

// Per image. `literal`: BigGAN-PyTorch's op order; `executed`: what runs with the options given
// (fused_resampling computes fewer, model/resampling_conv.h).
struct ForwardMacs {
  double literal = 0;
  double executed = 0;
};

ForwardMacs generator_forward_macs(const GeneratorOptions& o);
ForwardMacs discriminator_forward_macs(const DiscriminatorOptions& o);

// One iteration of BigGAN-PyTorch's training function: num_D_steps x num_D_accumulations D
// micro-steps (G forward without gradients, D forward and backward on batch fakes plus batch
// reals) and num_G_accumulations G micro-steps of G_batch (G forward and backward, D forward and
// backward to its input only). A backward pass costs twice its forward (input and weight
// gradients), one that needs only input gradients once.
struct IterationShape {
  int batch = 0;
  int G_batch = 0;
  int num_D_steps = 1;
  int num_D_accumulations = 1;
  int num_G_accumulations = 1;
};

// FLOPs (two per multiply-add) of one iteration, from per-image forward counts.
double iteration_flops(double G_macs, double D_macs, const IterationShape& shape);

}  // namespace biggan::model
