// A reimplementation of Pillow's Resample.c (ImagingResample with the BILINEAR filter) for
// 8-bit RGB. The arithmetic follows it step by step, in the same types, because the last bit of
// every pixel depends on it: coefficients in double, normalised per output pixel, converted to
// 22-bit fixed point with rounding away from zero; sums start at half a unit and are shifted
// and clipped. Built with -ffp-contract=off (CMakeLists.txt) so no FMA changes a coefficient.
#include "image/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"

namespace biggan::image {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double triangle(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

struct Coefficients {
  int ksize = 0;
  std::vector<int> first;          // first input index of each output pixel
  std::vector<int> count;          // number of inputs
  std::vector<std::int32_t> kk;    // out_size x ksize fixed-point weights
};

// Pillow's precompute_coeffs() followed by normalize_coeffs_8bpc().
Coefficients precompute(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 1.0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<std::size_t>(out_size));
  c.count.resize(static_cast<std::size_t>(out_size));
  c.kk.assign(static_cast<std::size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(static_cast<std::size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = 0.0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    for (int x = 0; x < xmax; ++x) {
      const double w = triangle((x + xmin - center + 0.5) * ss);
      k[static_cast<std::size_t>(x)] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      double v = k[static_cast<std::size_t>(x)];
      if (ww != 0.0) v /= ww;
      c.kk[static_cast<std::size_t>(xx) * c.ksize + x] =
          v < 0 ? static_cast<std::int32_t>(-0.5 + v * (1 << kPrecisionBits))
                : static_cast<std::int32_t>(0.5 + v * (1 << kPrecisionBits));
    }
    c.first[static_cast<std::size_t>(xx)] = xmin;
    c.count[static_cast<std::size_t>(xx)] = xmax;
  }
  return c;
}

inline std::uint8_t clip8(std::int32_t v) {
  const std::int32_t shifted = v >> kPrecisionBits;
  return static_cast<std::uint8_t>(std::clamp<std::int32_t>(shifted, 0, 255));
}

// Rows [row0, row0 + rows) of `in`, resampled along x.
Image horizontal(const Image& in, int width, int row0, int rows, const Coefficients& c) {
  Image out;
  out.width = width;
  out.height = rows;
  out.rgb.resize(static_cast<std::size_t>(width) * rows * 3);
  for (int y = 0; y < rows; ++y) {
    const std::uint8_t* src = in.rgb.data() + static_cast<std::size_t>(y + row0) * in.width * 3;
    std::uint8_t* dst = out.rgb.data() + static_cast<std::size_t>(y) * width * 3;
    for (int xx = 0; xx < width; ++xx) {
      const std::int32_t* k = c.kk.data() + static_cast<std::size_t>(xx) * c.ksize;
      const int xmin = c.first[static_cast<std::size_t>(xx)];
      const int n = c.count[static_cast<std::size_t>(xx)];
      std::int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int x = 0; x < n; ++x) {
        const std::uint8_t* p = src + static_cast<std::size_t>(x + xmin) * 3;
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[3 * xx] = clip8(s0);
      dst[3 * xx + 1] = clip8(s1);
      dst[3 * xx + 2] = clip8(s2);
    }
  }
  return out;
}

// Resampled along y; the coefficients' first rows are relative to `row0` of `in`.
Image vertical(const Image& in, int height, int row0, const Coefficients& c) {
  Image out;
  out.width = in.width;
  out.height = height;
  out.rgb.resize(static_cast<std::size_t>(in.width) * height * 3);
  const std::size_t row = static_cast<std::size_t>(in.width) * 3;
  for (int yy = 0; yy < height; ++yy) {
    const std::int32_t* k = c.kk.data() + static_cast<std::size_t>(yy) * c.ksize;
    const int ymin = c.first[static_cast<std::size_t>(yy)] - row0;
    const int n = c.count[static_cast<std::size_t>(yy)];
    std::uint8_t* dst = out.rgb.data() + static_cast<std::size_t>(yy) * row;
    for (std::size_t i = 0; i < row; ++i) {
      std::int32_t s = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < n; ++y) s += in.rgb[static_cast<std::size_t>(y + ymin) * row + i] * k[y];
      dst[i] = clip8(s);
    }
  }
  return out;
}

}  // namespace

Image resize_bilinear(const Image& in, int width, int height) {
  if (width <= 0 || height <= 0 || in.width <= 0 || in.height <= 0)
    throw Error("resize: empty size (" + std::to_string(in.width) + "x" + std::to_string(in.height) + " -> " +
                std::to_string(width) + "x" + std::to_string(height) + ")");
  if (in.width == width && in.height == height) return in;  // PIL returns a copy
  const Coefficients cx = precompute(in.width, width);
  const Coefficients cy = precompute(in.height, height);
  const bool need_horizontal = width != in.width;
  const bool need_vertical = height != in.height;
  // As Pillow: the horizontal pass covers only the rows the vertical pass reads.
  const int row0 = cy.first.front();
  const int row_end = cy.first.back() + cy.count.back();
  if (need_horizontal && need_vertical) return vertical(horizontal(in, width, row0, row_end - row0, cx), height, row0, cy);
  if (need_horizontal) return horizontal(in, width, 0, in.height, cx);
  return vertical(in, height, 0, cy);
}

}  // namespace biggan::image
