// The bytes BigGAN-PyTorch's make_hdf5.py stores for a pixel value v: it normalises
// (ToTensor, Normalize(0.5, 0.5)) and converts back with (255 * ((x + 1) / 2)).byte(), which in
// float32 truncates 63 of the 256 values to one less. `prepare-data --biggan-pytorch-bytes`
// applies this so that a file equals one BigGAN-PyTorch made; by default PIL's value is kept.
#pragma once

#include <cstdint>

#include "image/image.h"

namespace biggan::data {

std::uint8_t biggan_pytorch_byte(std::uint8_t value);

void apply_biggan_pytorch_bytes(image::Image& img);

}  // namespace biggan::data
