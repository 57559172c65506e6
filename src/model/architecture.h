// Channel and resolution tables (BigGAN-PyTorch G_arch / D_arch, spec §2.1, §2.2, §2.6).
#pragma once

#include <vector>

namespace biggan::model {

struct StageSpec {
  int in_channels;
  int out_channels;
  bool resample;   // upsample (G) or downsample (D)
  int resolution;  // the label that attention resolutions are matched against
};

// Whether a stage labelled `resolution` gets self-attention (G_attn / D_attn's list).
bool has_attention(const std::vector<int>& list, int resolution);

// BigGAN G stages, 32..512 px. BigGAN-deep G uses the same table (no 512 in the original).
std::vector<StageSpec> G_arch(int ch, int resolution);
// BigGAN D stages. 512 px is ours (BigGAN-PyTorch has none): the 256 pattern with one more
// stage of ch channels at 256 px.
std::vector<StageSpec> D_arch(int ch, int resolution);
// BigGAN-deep D stages (the first stage follows the stem input_conv).
std::vector<StageSpec> deep_D_arch(int ch, int resolution);

}  // namespace biggan::model
