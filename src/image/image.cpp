#include "image/image.h"

#include <stb_image_write.h>

#include <algorithm>
#include <cstdint>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::image {

Image from_gray(const std::uint8_t* pixels, int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (std::size_t i = 0; i < static_cast<std::size_t>(width) * height; ++i)
    img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = pixels[i];
  return img;
}

namespace {

// round(d / 2.0) in Python: an odd d lands on .5, which goes to the even neighbour.
int python_round_half(int d) {
  const int half = d / 2;
  return (d % 2 == 1 && half % 2 == 1) ? half + 1 : half;
}

}  // namespace

Image center_crop_square(const Image& in) {
  const int side = std::min(in.width, in.height);
  const int x0 = python_round_half(in.width - side);
  const int y0 = python_round_half(in.height - side);
  Image out;
  out.width = out.height = side;
  out.rgb.resize(static_cast<std::size_t>(side) * side * 3);
  for (int y = 0; y < side; ++y)
    std::copy_n(&in.rgb[(static_cast<std::size_t>(y + y0) * in.width + x0) * 3], static_cast<std::size_t>(side) * 3,
                &out.rgb[static_cast<std::size_t>(y) * side * 3]);
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
