// What G and D are built from: the architecture's choices as enums and its sizes, resolved by
// the config (config/module_options.h builds these) so that the model never reads the config.
// No torch here: the config's parser names these enums' values (config/choices.h).
#pragma once

#include <cstdint>
#include <vector>

namespace biggan::model {

enum class Architecture { BigGAN, BigGANdeep };
enum class Parameterization { SN, none };         // spectrally normalised layers, or plain ones
enum class Activation { relu, inplace_relu, ir };  // ir is BigGAN-PyTorch's alias of inplace_relu
enum class NormStyle { bn, in, gn, nonorm };
enum class WeightInit { ortho, N02, glorot, xavier };
enum class Precision { fp32, bf16 };               // bf16: autocast on CUDA
// Activations inside G and D: NHWC (channels last) or NCHW. Which is faster depends on the
// machine (bench/README.md): automatic picks by nhwc_activations() below.
enum class MemoryLayout { automatic, nhwc, nchw };

// Whether G and D run NHWC activations for this layout choice: automatic means NHWC on CUDA and
// on CPUs where oneDNN runs AVX-512 kernels, NCHW on AVX2 CPUs (the demo's step 10% faster and
// cases B and C 11-20% on an AMD EPYC; NHWC 12% faster in case B on a Sapphire Rapids Xeon).
bool nhwc_activations(MemoryLayout layout, bool on_cuda, bool onednn_avx512);

struct SNOptions {
  int num_svs = 1;
  int num_itrs = 1;
  double eps = 1e-12;
};

struct GeneratorOptions {
  Architecture architecture = Architecture::BigGAN;
  Parameterization param = Parameterization::SN;
  Activation activation = Activation::relu;
  NormStyle norm_style = NormStyle::bn;
  WeightInit init = WeightInit::ortho;
  bool skip_init = false;
  bool mybn = false;             // manual BN with exact standing statistics
  bool cross_replica = false;    // synchronised BN (the trainer installs the reducer)
  int ch = 64;
  int depth = 1;                 // blocks per stage (BigGAN-deep)
  int resolution = 128;
  int n_classes = 1000;
  int bottom_width = 4;
  bool shared = false;           // one shared class embedding
  int shared_dim = 128;
  bool hier = false;
  int dim_z = 128;               // after hier rounding
  int num_slots = 1;             // hier: z chunks (blocks + 1)
  int z_chunk_size = 0;
  std::vector<int> attention;    // block resolutions with self-attention
  SNOptions sn;
  double BN_eps = 1e-5;
  MemoryLayout layout = MemoryLayout::automatic;  // of the activations (nhwc_activations); images stay NCHW
  bool fused_resampling = true;  // upsample + 3x3 conv as one low-resolution conv (model/resampling_conv.h)
};

struct DiscriminatorOptions {
  Architecture architecture = Architecture::BigGAN;
  Activation activation = Activation::relu;
  WeightInit init = WeightInit::ortho;
  bool skip_init = false;
  int ch = 64;
  int depth = 1;
  bool wide = true;
  int resolution = 128;
  int n_classes = 1000;
  std::vector<int> attention;
  SNOptions sn;
  MemoryLayout layout = MemoryLayout::automatic;  // NHWC: the input is converted first
  bool fused_resampling = true;  // 3x3 conv + average pooling as one stride-2 conv
};

}  // namespace biggan::model
