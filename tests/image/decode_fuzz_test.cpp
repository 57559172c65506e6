// Damaged image files, many of them: every decoder (JPEG, PNG, BMP at each depth, PPM/PGM/PBM in
// both encodings) is given thousands of mutations of a valid file (bytes replaced, bits flipped,
// extreme values, cuts). Each must decode to a consistent image or throw biggan::Error; a crash,
// a hang or any other exception fails. A run under AddressSanitizer found the pixel-count
// overflow this suite now also covers (tests/image/image_test.cpp).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "../damage.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "image/decode.h"
#include "image/image.h"

namespace biggan::image {
namespace {

void put16(std::string& s, std::size_t at, unsigned v) {
  s[at] = static_cast<char>(v & 0xff);
  s[at + 1] = static_cast<char>(v >> 8);
}
void put32(std::string& s, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + i] = static_cast<char>(v >> (8 * i));
}

// An uncompressed bottom-up BMP (BITMAPINFOHEADER) of `bits` per pixel, with a grey palette where
// it has one.
std::string bmp(int width, int height, int bits) {
  const std::uint32_t colors = bits <= 8 ? (1u << bits) : 0;
  const std::size_t stride = static_cast<std::size_t>(((width * bits + 31) / 32) * 4);
  const std::size_t data_at = 14 + 40 + 4 * colors;
  std::string s(data_at + stride * height, '\0');
  s[0] = 'B';
  s[1] = 'M';
  put32(s, 2, static_cast<std::uint32_t>(s.size()));
  put32(s, 10, static_cast<std::uint32_t>(data_at));
  put32(s, 14, 40);
  put32(s, 18, static_cast<std::uint32_t>(width));
  put32(s, 22, static_cast<std::uint32_t>(height));
  put16(s, 26, 1);
  put16(s, 28, static_cast<unsigned>(bits));
  put32(s, 46, colors);
  for (std::uint32_t c = 0; c < colors; ++c)
    for (int k = 0; k < 3; ++k) s[54 + 4 * c + k] = static_cast<char>(c * 255 / std::max(1u, colors - 1));
  for (std::size_t i = data_at; i < s.size(); ++i) s[i] = static_cast<char>(i * 37 % 251);
  return s;
}

std::string png(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < img.rgb.size(); ++i) img.rgb[i] = static_cast<std::uint8_t>(i * 29 % 256);
  const std::string path = "/tmp/biggan_decode_fuzz_" + std::to_string(::getpid()) + ".png";
  write_png(path, img);
  const std::string bytes = read_file(path);
  std::filesystem::remove(path);
  return bytes;
}

std::vector<std::pair<std::string, std::string>> valid_files() {
  std::string p6 = "P6\n# a comment\n5 3\n255\n", p5 = "P5 4 2 1000\n", p4 = "P4\n9 2\n";
  for (int i = 0; i < 45; ++i) p6 += static_cast<char>(i * 11);
  for (int i = 0; i < 16; ++i) p5 += static_cast<char>(i % 2 ? i * 7 : 3);
  p4 += std::string("\xa5\x80\x3c\x00", 4);
  return {
      {"tiny.jpg", read_file(std::string(BIGGAN_SOURCE_DIR) + "/tests/image/tiny.jpg")},
      {"rgb.png", png(7, 5)},
      {"bits1.bmp", bmp(11, 3, 1)},
      {"bits4.bmp", bmp(5, 4, 4)},
      {"bits8.bmp", bmp(6, 3, 8)},
      {"bits16.bmp", bmp(3, 5, 16)},
      {"bits24.bmp", bmp(5, 2, 24)},
      {"bits32.bmp", bmp(4, 3, 32)},
      {"binary.ppm", p6},
      {"deep.pgm", p5},
      {"bitmap.pbm", p4},
      {"plain.ppm", "P3\n2 2\n255\n1 2 3 4 5 6 7 8 9 10 11 12\n"},
      {"plain.pgm", "P2 3 1 65535 0 32768 65535\n"},
      {"plain.pbm", "P1\n3 2\n1 0 1\n010\n"},
  };
}

TEST(DecodeFuzz, EveryValidSeedDecodes) {
  for (const auto& [name, bytes] : valid_files()) {
    const Image img = decode(bytes, name);
    EXPECT_GT(img.width, 0) << name;
    EXPECT_EQ(img.rgb.size(), static_cast<std::size_t>(img.width) * img.height * 3) << name;
  }
}

TEST(DecodeFuzz, MutatedFilesDecodeConsistentlyOrAreErrors) {
  std::mt19937 rng(2026);
  int decoded = 0, refused = 0;
  for (const auto& file : valid_files()) {
    const std::string& name = file.first;  // a plain reference: C++17 lambdas cannot capture structured bindings
    const auto outcomes = testing::load_mutations(file.second, rng, 1500, name, [&](const std::string& damaged, int i) {
      const Image img = decode(damaged, name, i % 2 ? DecodeDepth::full : DecodeDepth::verify);
      EXPECT_GT(img.width, 0) << name << " mutation " << i;
      EXPECT_GT(img.height, 0) << name << " mutation " << i;
      EXPECT_EQ(img.rgb.size(), static_cast<std::size_t>(img.width) * img.height * 3) << name << " mutation " << i;
    });
    ASSERT_FALSE(HasFailure()) << name;
    decoded += outcomes.loaded;
    refused += outcomes.refused;
  }
  // Both outcomes occur: the mutations neither all miss the data nor all break the header.
  std::cout << "decoded " << decoded << ", refused " << refused << "\n";
  EXPECT_GT(decoded, 1000);
  EXPECT_GT(refused, 1000);
}

}  // namespace
}  // namespace biggan::image
