#include "data/biggan_pytorch_bytes.h"

#include <array>

namespace biggan::data {

namespace {

// The same float32 operations in the same order as torchvision and make_hdf5.py (a true
// division by 255, not a multiplication by its reciprocal). volatile keeps every intermediate
// a rounded float.
std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> table{};
  for (int v = 0; v < 256; ++v) {
    volatile float x = static_cast<float>(v) / 255.0f;  // ToTensor
    x = (x - 0.5f) / 0.5f;                              // Normalize(0.5, 0.5)
    volatile float back = (x + 1.0f) / 2.0f;
    back = 255.0f * back;
    table[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(back);  // .byte() truncates
  }
  return table;
}

const std::array<std::uint8_t, 256>& table() {
  static const std::array<std::uint8_t, 256> t = make_table();
  return t;
}

}  // namespace

std::uint8_t biggan_pytorch_byte(std::uint8_t value) { return table()[value]; }

void apply_biggan_pytorch_bytes(image::Image& img) {
  const auto& t = table();
  for (auto& v : img.rgb) v = t[v];
}

}  // namespace biggan::data
