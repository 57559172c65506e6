// 8-bit RGB images: decoding (jpg/png/bmp/ppm/pgm/gif/tga via stb_image), the centre-crop and
// antialiased resize of dataset preparation, and PNG writing (sample sheets).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace biggan::image {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<std::uint8_t> rgb;  // height x width x 3, row-major (HWC)
};

// Decodes an encoded file's bytes; grayscale, grey+alpha, palette and RGBA become RGB (alpha is
// dropped). Throws Error naming `source` when the data cannot be decoded.
Image decode(const std::string& bytes, const std::string& source);
// Grayscale (one byte per pixel) to RGB by replication.
Image from_gray(const std::uint8_t* pixels, int width, int height);

// The largest centred square (BigGAN-PyTorch's CenterCropLongEdge).
Image center_crop_square(const Image& in);
// Antialiased resize (Mitchell filter when shrinking, Catmull-Rom when growing, as stb_image_resize
// does), rounding to the nearest value; the original's uint8 conversion truncates instead.
Image resize(const Image& in, int width, int height);
// Pads with `value` to width x height, the image centred (Fashion-MNIST 28 -> 32).
Image pad_center(const Image& in, int width, int height, std::uint8_t value);

// HWC RGB bytes -> CHW planes, the layout of the HDF5 `imgs` dataset.
void to_chw(const Image& in, std::uint8_t* out);

// Writes a PNG atomically (temporary name, then rename).
void write_png(const std::string& path, const Image& img);

}  // namespace biggan::image
