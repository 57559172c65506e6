#include "image/image.h"

#include <stb_image.h>
#include <zlib.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::image {

namespace {

// stb_image checks neither PNG chunk CRCs nor zlib's Adler-32: a flipped bit decodes into wrong
// pixels without a word. Every chunk's CRC-32 (over type and data) is checked here first.
void check_png_chunks(const std::string& bytes, const std::string& source) {
  static const char signature[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  if (bytes.size() < 8 || bytes.compare(0, 8, signature, 8) != 0) return;
  const auto u32 = [&](std::size_t at) {
    return (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at])) << 24) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 1])) << 16) |
           (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 2])) << 8) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + 3]));
  };
  std::size_t at = 8;
  while (at + 12 <= bytes.size()) {
    const std::uint32_t length = u32(at);
    if (length > bytes.size() - at - 12) throw Error(source + ": damaged PNG (a chunk runs past the end of the file)");
    const std::string type = bytes.substr(at + 4, 4);
    const auto crc = static_cast<std::uint32_t>(
        crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data() + at + 4), static_cast<uInt>(length + 4)));
    if (crc != u32(at + 8 + length))
      throw Error(source + ": damaged PNG (CRC mismatch in its " + type + " chunk at byte " + std::to_string(at) + ")");
    if (type == "IEND") return;
    at += 12 + length;
  }
  throw Error(source + ": damaged PNG (truncated before its IEND chunk)");
}

}  // namespace

Image decode(const std::string& bytes, const std::string& source) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw Error(source + ": file too large to decode");
  check_png_chunks(bytes, source);
  int w = 0, h = 0, channels = 0;
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), static_cast<int>(bytes.size()), &w, &h,
                            &channels, 3),
      stbi_image_free);
  if (!pixels) throw Error(source + ": cannot decode image (" + std::string(stbi_failure_reason()) + ")");
  Image img;
  img.width = w;
  img.height = h;
  img.rgb.assign(pixels.get(), pixels.get() + static_cast<std::size_t>(w) * h * 3);
  return img;
}

Image from_gray(const std::uint8_t* pixels, int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < static_cast<std::size_t>(width) * height; ++i)
    img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = pixels[i];
  return img;
}

Image center_crop_square(const Image& in) {
  const int side = std::min(in.width, in.height);
  const int x0 = (in.width - side) / 2;
  const int y0 = (in.height - side) / 2;
  Image out;
  out.width = out.height = side;
  out.rgb.resize(static_cast<std::size_t>(side) * side * 3);
  for (int y = 0; y < side; ++y)
    std::copy_n(&in.rgb[(static_cast<std::size_t>(y + y0) * in.width + x0) * 3], static_cast<std::size_t>(side) * 3,
                &out.rgb[static_cast<std::size_t>(y) * side * 3]);
  return out;
}

Image resize(const Image& in, int width, int height) {
  if (in.width == width && in.height == height) return in;
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  if (!stbir_resize_uint8(in.rgb.data(), in.width, in.height, 0, out.rgb.data(), width, height, 0, 3))
    throw Error("image resize failed (" + std::to_string(in.width) + "x" + std::to_string(in.height) + " -> " +
                std::to_string(width) + "x" + std::to_string(height) + ")");
  return out;
}

Image pad_center(const Image& in, int width, int height, std::uint8_t value) {
  if (in.width > width || in.height > height) throw Error("pad_center: image larger than the target");
  Image out;
  out.width = width;
  out.height = height;
  out.rgb.assign(static_cast<std::size_t>(width) * height * 3, value);
  const int x0 = (width - in.width) / 2;
  const int y0 = (height - in.height) / 2;
  for (int y = 0; y < in.height; ++y)
    std::copy_n(&in.rgb[static_cast<std::size_t>(y) * in.width * 3], static_cast<std::size_t>(in.width) * 3,
                &out.rgb[(static_cast<std::size_t>(y + y0) * width + x0) * 3]);
  return out;
}

void to_chw(const Image& in, std::uint8_t* out) {
  const std::size_t plane = static_cast<std::size_t>(in.width) * in.height;
  for (std::size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) out[c * plane + i] = in.rgb[3 * i + c];
}

void write_png(const std::string& path, const Image& img) {
  std::string encoded;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
  };
  if (!stbi_write_png_to_func(append, &encoded, img.width, img.height, 3, img.rgb.data(), img.width * 3))
    throw Error(path + ": PNG encoding failed");
  write_file_atomically(path, encoded);
}

}  // namespace biggan::image
