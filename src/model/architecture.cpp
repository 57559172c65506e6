#include "model/architecture.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace biggan::model {

namespace {
std::vector<StageSpec> stages(int ch, const std::vector<int>& in, const std::vector<int>& out,
                              const std::vector<bool>& resample, const std::vector<int>& resolution) {
  std::vector<StageSpec> s;
  for (std::size_t i = 0; i < out.size(); ++i)
    s.push_back({in[i] < 0 ? -in[i] : in[i] * ch, out[i] * ch, resample[i], resolution[i]});
  return s;
}
}  // namespace

bool has_attention(const std::vector<int>& list, int resolution) {
  return std::find(list.begin(), list.end(), resolution) != list.end();
}

std::vector<StageSpec> G_arch(int ch, int resolution) {
  switch (resolution) {
    case 512: return stages(ch, {16, 16, 8, 8, 4, 2, 1}, {16, 8, 8, 4, 2, 1, 1}, std::vector<bool>(7, true), {8, 16, 32, 64, 128, 256, 512});
    case 256: return stages(ch, {16, 16, 8, 8, 4, 2}, {16, 8, 8, 4, 2, 1}, std::vector<bool>(6, true), {8, 16, 32, 64, 128, 256});
    case 128: return stages(ch, {16, 16, 8, 4, 2}, {16, 8, 4, 2, 1}, std::vector<bool>(5, true), {8, 16, 32, 64, 128});
    case 64: return stages(ch, {16, 16, 8, 4}, {16, 8, 4, 2}, std::vector<bool>(4, true), {8, 16, 32, 64});
    case 32: return stages(ch, {4, 4, 4}, {4, 4, 4}, std::vector<bool>(3, true), {8, 16, 32});
  }
  throw Error("no generator architecture for " + std::to_string(resolution) + " px");
}

// An in_channels entry of -3 means "3 RGB channels", not a multiple of ch.
std::vector<StageSpec> D_arch(int ch, int resolution) {
  switch (resolution) {
    case 512: return stages(ch, {-3, 1, 1, 2, 4, 8, 8, 16}, {1, 1, 2, 4, 8, 8, 16, 16},
                            {true, true, true, true, true, true, true, false}, {256, 128, 64, 32, 16, 8, 4, 4});
    case 256: return stages(ch, {-3, 1, 2, 4, 8, 8, 16}, {1, 2, 4, 8, 8, 16, 16},
                            {true, true, true, true, true, true, false}, {128, 64, 32, 16, 8, 4, 4});
    case 128: return stages(ch, {-3, 1, 2, 4, 8, 16}, {1, 2, 4, 8, 16, 16}, {true, true, true, true, true, false},
                            {64, 32, 16, 8, 4, 4});
    case 64: return stages(ch, {-3, 1, 2, 4, 8}, {1, 2, 4, 8, 16}, {true, true, true, true, false}, {32, 16, 8, 4, 4});
    // The original labels all four 32 px stages "16" (their outputs are 16, 8, 8, 8): kept, so
    // D_attn '16' attaches attention to every block exactly as BigGAN-PyTorch does.
    case 32: return stages(ch, {-3, 4, 4, 4}, {4, 4, 4, 4}, {true, true, false, false}, {16, 16, 16, 16});
  }
  throw Error("no discriminator architecture for " + std::to_string(resolution) + " px");
}

std::vector<StageSpec> deep_D_arch(int ch, int resolution) {
  switch (resolution) {
    case 256: return stages(ch, {1, 2, 4, 8, 8, 16}, {2, 4, 8, 8, 16, 16}, std::vector<bool>(6, true), {128, 64, 32, 16, 8, 4});
    case 128: return stages(ch, {1, 2, 4, 8, 16}, {2, 4, 8, 16, 16}, std::vector<bool>(5, true), {64, 32, 16, 8, 4});
    case 64: return stages(ch, {1, 2, 4, 8}, {2, 4, 8, 16}, std::vector<bool>(4, true), {32, 16, 8, 4});
    case 32: return stages(ch, {4, 4, 4}, {4, 4, 4}, {true, true, false}, {16, 8, 8});
  }
  throw Error("no BigGAN-deep discriminator architecture for " + std::to_string(resolution) + " px");
}

}  // namespace biggan::model
