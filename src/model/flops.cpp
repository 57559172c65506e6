#include "model/flops.h"

#include <vector>

#include "model/architecture.h"

namespace biggan::model {

namespace {

double square(double x) { return x * x; }

// 3x3 convolution, padding 1, on a side x side map.
double conv3x3(double in, double out, double side) { return 9 * in * out * square(side); }
double conv1x1(double in, double out, double side) { return in * out * square(side); }
// Upsample-then-3x3 as four 2x2 phases on the (side + 1)^2 padded low-resolution map.
double fused_upsample_conv(double in, double out, double low_side) { return 16 * in * out * square(low_side + 1); }
// 3x3-then-pool as a 4x4 stride-2 convolution producing a (side / 2)^2 map.
double fused_conv_pool(double in, double out, double side) { return 16 * in * out * square(side / 2); }

// SA-GAN attention on a C-channel side x side map: four 1x1 convolutions (theta, phi to C/8; g to
// C/2; o back to C) and the two products with the pooled keys and values (HW/4 of them).
double attention(double C, double side) {
  const double hw = square(side);
  return conv1x1(C, C / 8, side) * 2 + conv1x1(C, C / 2, side) + conv1x1(C / 2, C, side) + hw * (hw / 4) * (C / 8) +
         hw * (hw / 4) * (C / 2);
}

void add(ForwardMacs& m, double both) {
  m.literal += both;
  m.executed += both;
}

}  // namespace

ForwardMacs generator_forward_macs(const GeneratorOptions& o) {
  const bool deep = o.architecture == Architecture::BigGANdeep;
  const auto arch = G_arch(o.ch, o.resolution);
  // The class-conditional BN's gain and bias are linear layers only with a shared embedding.
  const double bn_input = o.shared ? (deep ? o.shared_dim + o.dim_z : o.shared_dim + o.z_chunk_size) : 0;
  const int num_slots = o.hier && !deep ? o.num_slots : 1;
  const double linear_in = deep ? o.dim_z + o.shared_dim : o.dim_z / num_slots;
  ForwardMacs m;
  double side = o.bottom_width;
  add(m, linear_in * arch[0].in_channels * square(side));
  for (const auto& s : arch) {
    const int blocks = deep ? o.depth : 1;
    for (int d = 0; d < blocks; ++d) {
      const bool last = d == blocks - 1;
      const double in = s.in_channels;
      const double out = deep && !last ? s.in_channels : s.out_channels;
      const bool up = s.resample && last;
      const double low = side, high = up ? 2 * side : side;
      if (!deep) {
        add(m, 2 * bn_input * (in + out) + conv3x3(out, out, high));
        m.literal += conv3x3(in, out, high);
        m.executed += up && o.fused_resampling ? fused_upsample_conv(in, out, low) : conv3x3(in, out, high);
        if (in != out || up) {
          m.literal += conv1x1(in, out, high);
          m.executed += conv1x1(in, out, up && o.fused_resampling ? low : high);
        }
      } else {
        const double hidden = in / 4;
        add(m, 2 * bn_input * (in + 3 * hidden) + conv1x1(in, hidden, low) + conv3x3(hidden, hidden, high) +
                   conv1x1(hidden, out, high));
        m.literal += conv3x3(hidden, hidden, high);
        m.executed += up && o.fused_resampling ? fused_upsample_conv(hidden, hidden, low) : conv3x3(hidden, hidden, high);
      }
      side = high;
    }
    if (has_attention(o.attention, s.resolution)) add(m, attention(s.out_channels, side));
  }
  add(m, conv3x3(arch.back().out_channels, 3, side));
  return m;
}

ForwardMacs discriminator_forward_macs(const DiscriminatorOptions& o) {
  ForwardMacs m;
  double side = o.resolution;
  if (o.architecture == Architecture::BigGAN) {
    const auto arch = D_arch(o.ch, o.resolution);
    for (std::size_t i = 0; i < arch.size(); ++i) {
      const auto& s = arch[i];
      const double in = s.in_channels, out = s.out_channels, hidden = o.wide ? out : in;
      const bool down = s.resample, preactivation = i > 0;
      const double low = down ? side / 2 : side;
      add(m, conv3x3(in, hidden, side));
      m.literal += conv3x3(hidden, out, side);
      m.executed += down && o.fused_resampling ? fused_conv_pool(hidden, out, side) : conv3x3(hidden, out, side);
      if (in != out || down) {
        m.literal += conv1x1(in, out, preactivation ? side : low);
        m.executed += conv1x1(in, out, preactivation && !o.fused_resampling ? side : low);
      }
      side = low;
      if (has_attention(o.attention, s.resolution)) add(m, attention(out, side));
    }
    add(m, arch.back().out_channels);  // the final linear layer to one logit
    return m;
  }
  const auto arch = deep_D_arch(o.ch, o.resolution);
  add(m, conv3x3(3, arch[0].in_channels, side));
  for (const auto& s : arch) {
    for (int d = 0; d < o.depth; ++d) {
      const double in = d == 0 ? s.in_channels : s.out_channels, out = s.out_channels, hidden = out / 4;
      const double low = s.resample && d == 0 ? side / 2 : side;
      add(m, conv1x1(in, hidden, side) + 2 * conv3x3(hidden, hidden, side) + conv1x1(hidden, out, low));
      if (in != out) add(m, conv1x1(in, out - in, low));
      side = low;
    }
    if (has_attention(o.attention, s.resolution)) add(m, attention(s.out_channels, side));
  }
  add(m, arch.back().out_channels);
  return m;
}

double iteration_flops(double G_macs, double D_macs, const IterationShape& s) {
  const double D_micro = s.batch * (G_macs + 3 * 2 * D_macs);
  const double G_micro = s.G_batch * (3 * G_macs + 2 * D_macs);
  return 2 * (s.num_D_steps * s.num_D_accumulations * D_micro + s.num_G_accumulations * G_micro);
}

}  // namespace biggan::model
