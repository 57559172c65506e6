// 8-bit RGB images: the geometry of dataset preparation (centre crop, padding, CHW layout) and
// PNG writing (sample sheets). Decoding is in decode.h, resizing in resample.h.
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

// Grayscale (one byte per pixel) to RGB by replication.
Image from_gray(const std::uint8_t* pixels, int width, int height);

// The largest centred square: BigGAN-PyTorch's CenterCropLongEdge, i.e. torchvision's
// center_crop, whose offset is Python's round((long - short) / 2), half to even.
Image center_crop_square(const Image& in);
// Pads with `value` to width x height, the image centred (Fashion-MNIST 28 -> 32).
Image pad_center(const Image& in, int width, int height, std::uint8_t value);

// HWC RGB bytes -> CHW planes, the layout of the HDF5 `imgs` dataset.
void to_chw(const Image& in, std::uint8_t* out);

// Writes a PNG atomically (temporary name, then rename).
void write_png(const std::string& path, const Image& img);

}  // namespace biggan::image
