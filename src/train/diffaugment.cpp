#include "train/diffaugment.h"

#include "core/error.h"
#include "train/device_copy.h"

namespace biggan::train {

namespace {

// Streams of their own, apart from the micro-step's latents (which use its seed directly).
constexpr std::uint64_t kFakeStream = 0xD1FFA06F;
constexpr std::uint64_t kRealStream = 0xD1FFA06E;

// The n-th number of an image's draws: one splitmix64 step over (key, n).
std::uint64_t nth(std::uint64_t key, std::uint64_t n) { return derived_seed(key, n); }
float unit_float(std::uint64_t bits) { return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f); }  // 24 bits: exact
std::int64_t integer_in(std::uint64_t bits, std::int64_t low, std::int64_t high) {  // [low, high)
  return low + static_cast<std::int64_t>(bits % static_cast<std::uint64_t>(high - low));
}

std::int64_t translation_limit(std::int64_t side) { return static_cast<std::int64_t>(static_cast<double>(side) * 0.125 + 0.5); }
std::int64_t cutout_size(std::int64_t side) { return static_cast<std::int64_t>(static_cast<double>(side) * 0.5 + 0.5); }

// CPU draws to x's device (and dtype, for factors).
torch::Tensor on_device_of(const torch::Tensor& cpu, const torch::Tensor& x, bool cast) {
  return to_device(cpu, x.device(), cast ? x.scalar_type() : cpu.scalar_type());
}

torch::Tensor factor(const torch::Tensor& draws, const torch::Tensor& x) {
  return on_device_of(draws, x, true).view({x.size(0), 1, 1, 1});
}

torch::Tensor color(torch::Tensor x, const AugmentParameters& p) {
  x = x + (factor(p.brightness, x) - 0.5);
  const auto channel_mean = x.mean({1}, /*keepdim=*/true);
  x = (x - channel_mean) * (factor(p.saturation, x) * 2) + channel_mean;
  const auto image_mean = x.mean({1, 2, 3}, /*keepdim=*/true);
  return (x - image_mean) * (factor(p.contrast, x) + 0.5) + image_mean;
}

torch::Tensor translation(const torch::Tensor& x, const AugmentParameters& p) {
  const std::int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  const auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  // Output row i reads padded row clamp(i + shift + 1, 0, h + 1): rows 0 and h + 1 are zeros.
  const auto rows = (torch::arange(h, index_options).view({1, h}) + on_device_of(p.shift_h, x, false).view({n, 1}) + 1)
                        .clamp(0, h + 1);
  const auto cols = (torch::arange(w, index_options).view({1, w}) + on_device_of(p.shift_w, x, false).view({n, 1}) + 1)
                        .clamp(0, w + 1);
  const auto padded = torch::constant_pad_nd(x, {1, 1, 1, 1});
  return padded.gather(2, rows.view({n, 1, h, 1}).expand({n, c, h, w + 2}))
      .gather(3, cols.view({n, 1, 1, w}).expand({n, c, h, w}));
}

torch::Tensor cutout(const torch::Tensor& x, const AugmentParameters& p) {
  const std::int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const std::int64_t size_h = cutout_size(h), size_w = cutout_size(w);
  const auto index_options = torch::TensorOptions().dtype(torch::kInt64).device(x.device());
  // The reference zeroes the clamped indices centre - size/2 + [0, size): one clamped interval.
  const auto top = on_device_of(p.cutout_h, x, false).view({n, 1}) - size_h / 2;
  const auto left = on_device_of(p.cutout_w, x, false).view({n, 1}) - size_w / 2;
  const auto i = torch::arange(h, index_options).view({1, h});
  const auto j = torch::arange(w, index_options).view({1, w});
  const auto in_rows = (i >= top.clamp(0, h - 1)).logical_and(i <= (top + size_h - 1).clamp(0, h - 1)).view({n, 1, h, 1});
  const auto in_cols = (j >= left.clamp(0, w - 1)).logical_and(j <= (left + size_w - 1).clamp(0, w - 1)).view({n, 1, 1, w});
  return x * in_rows.logical_and(in_cols).logical_not().to(x.scalar_type());
}

}  // namespace

AugmentParameters draw_parameters(const config::AugmentPolicy& policy, const std::vector<std::uint64_t>& image_keys,
                                  std::int64_t height, std::int64_t width) {
  const auto n = static_cast<std::int64_t>(image_keys.size());
  AugmentParameters p;
  std::vector<std::uint64_t> counter(image_keys.size(), 0);  // each image's next draw
  const auto next = [&](std::size_t image) { return nth(image_keys[image], counter[image]++); };
  const auto uniforms = [&]() {
    torch::Tensor t = torch::empty({n}, torch::kFloat32);
    auto* data = t.data_ptr<float>();
    for (std::int64_t b = 0; b < n; ++b) data[b] = unit_float(next(static_cast<std::size_t>(b)));
    return t;
  };
  const auto integers = [&](std::int64_t low, std::int64_t high) {
    torch::Tensor t = torch::empty({n}, torch::kInt64);
    auto* data = t.data_ptr<std::int64_t>();
    for (std::int64_t b = 0; b < n; ++b) data[b] = integer_in(next(static_cast<std::size_t>(b)), low, high);
    return t;
  };
  for (const auto transform : policy) {
    switch (transform) {
      case config::Augmentation::color:
        p.brightness = uniforms();
        p.saturation = uniforms();
        p.contrast = uniforms();
        break;
      case config::Augmentation::translation:
        p.shift_h = integers(-translation_limit(height), translation_limit(height) + 1);
        p.shift_w = integers(-translation_limit(width), translation_limit(width) + 1);
        break;
      case config::Augmentation::cutout:
        // As the reference: centres in [0, side + (1 - size % 2)).
        p.cutout_h = integers(0, height + (1 - cutout_size(height) % 2));
        p.cutout_w = integers(0, width + (1 - cutout_size(width) % 2));
        break;
    }
  }
  return p;
}

torch::Tensor apply_augmentation(const torch::Tensor& x, const config::AugmentPolicy& policy, const AugmentParameters& p) {
  if (x.dim() != 4) throw Error("DiffAugment: expected images (N, C, H, W), got " + std::to_string(x.dim()) + " dimensions");
  torch::Tensor out = x;
  for (const auto transform : policy) {
    switch (transform) {
      case config::Augmentation::color: out = color(out, p); break;
      case config::Augmentation::translation: out = translation(out, p); break;
      case config::Augmentation::cutout: out = cutout(out, p); break;
    }
  }
  return out;
}

torch::Tensor diff_augment(const torch::Tensor& x, const config::AugmentPolicy& policy,
                           const std::vector<std::uint64_t>& image_keys) {
  if (x.dim() != 4) throw Error("DiffAugment: expected images (N, C, H, W), got " + std::to_string(x.dim()) + " dimensions");
  if (static_cast<std::int64_t>(image_keys.size()) != x.size(0))
    throw Error("DiffAugment: " + std::to_string(image_keys.size()) + " keys for " + std::to_string(x.size(0)) + " images");
  return apply_augmentation(x, policy, draw_parameters(policy, image_keys, x.size(2), x.size(3)));
}

torch::Tensor DiffAugment::fake(const torch::Tensor& x, const MicroStep& m) const {
  if (!enabled()) return x;
  const std::uint64_t slot_key =
      derived_seed(micro_step_seed(seed, itr, m, global_slot(m, rank, D_accumulations, G_accumulations)), kFakeStream);
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(x.size(0)));
  for (std::size_t row = 0; row < keys.size(); ++row) keys[row] = derived_seed(slot_key, row);
  return diff_augment(x, policy, keys);
}

torch::Tensor DiffAugment::real(const torch::Tensor& x, const MicroStep& m, std::int64_t first_row) const {
  if (!enabled()) return x;
  if (first_row < 0 || first_row + x.size(0) > static_cast<std::int64_t>(real_indices.size()))
    throw Error("DiffAugment: rows " + std::to_string(first_row) + "+" + std::to_string(x.size(0)) + " of a real batch of " +
                std::to_string(real_indices.size()) + " dataset indices");
  // Every rank and layout sees the same images in D step m.step; the slot is left out.
  const MicroStep step{MicroStep::Phase::D, m.step, 0};
  const std::uint64_t step_key = derived_seed(micro_step_seed(seed, itr, step, 0), kRealStream);
  std::vector<std::uint64_t> keys(static_cast<std::size_t>(x.size(0)));
  for (std::size_t row = 0; row < keys.size(); ++row)
    keys[row] = derived_seed(step_key, static_cast<std::uint64_t>(real_indices[static_cast<std::size_t>(first_row) + row]));
  return diff_augment(x, policy, keys);
}

}  // namespace biggan::train
