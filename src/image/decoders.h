// The per-format decoders behind decode() (decode.h); each returns RGB with PIL's conversions.
// Internal to src/image.
#pragma once

#include <cstdint>
#include <string>

#include "image/decode.h"

namespace biggan::image::detail {

Image decode_jpeg(const std::string& bytes, const std::string& source, DecodeDepth depth);
Image decode_png(const std::string& bytes, const std::string& source);
Image decode_bmp(const std::string& bytes, const std::string& source);
Image decode_pnm(const std::string& bytes, const std::string& source);

// An empty RGB image of width x height, after PIL's size checks.
Image allocate_rgb(long long width, long long height, const std::string& source);

// PIL's cmyk2rgb: each channel is (255 - k) - c * (255 - k) / 255, rounded by its MULDIV255.
inline std::uint8_t cmyk_channel(int c, int k) {
  const int nk = 255 - k;
  const int t = c * nk + 128;
  return static_cast<std::uint8_t>(nk - (((t >> 8) + t) >> 8));
}

}  // namespace biggan::image::detail
