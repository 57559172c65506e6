// Resizing exactly as PIL's Image.resize(size, Image.BILINEAR) does, which is what
// torchvision's Resize does to a PIL image and so what BigGAN-PyTorch's data preparation
// stores: a triangle filter whose support grows with the downscale factor (antialiasing),
// separable (horizontal pass, then vertical), with PIL's 22-bit fixed-point coefficients and
// rounding. The output equals PIL's byte for byte.
#pragma once

#include "image/image.h"

namespace biggan::image {

Image resize_bilinear(const Image& in, int width, int height);

}  // namespace biggan::image
