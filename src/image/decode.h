// Decoding image files into 8-bit RGB exactly as PIL's `Image.open(f).convert('RGB')` does,
// which is what BigGAN-PyTorch's ImageFolder loader calls: JPEG through libjpeg-turbo (the
// library and settings PIL uses), PNG through libpng, and BMP and PPM/PGM/PBM by PIL's rules.
// The format is recognised from the file's first bytes, not its extension, as PIL does.
//
// What `convert('RGB')` means per input: grayscale is replicated; palette images are looked up
// (their transparency ignored); alpha is dropped, not composited; 16-bit colour keeps the high
// byte; 16-bit grayscale is clipped to 255 (PIL's "I" -> "RGB"); CMYK uses PIL's inverted Adobe
// convention and its cmyk2rgb; EXIF orientation is not applied. Unlike PIL, every PNG chunk's
// CRC and the zlib Adler-32 are checked, so a damaged file is refused rather than decoded into
// wrong pixels.
#pragma once

#include <string>

#include "image/image.h"

namespace biggan::image {

enum class DecodeDepth {
  full,    // every pixel at the image's size
  verify,  // reads all the data and reports the same damage, but a JPEG is decoded at 1/8 scale
};

// Throws Error naming `source` when the data cannot be decoded or the format is unsupported.
Image decode(const std::string& bytes, const std::string& source, DecodeDepth depth = DecodeDepth::full);

// PIL's decompression-bomb limit (2 x Image.MAX_IMAGE_PIXELS): larger images are refused, as
// PIL refuses them.
constexpr long long kMaxImagePixels = 2LL * (1024 * 1024 * 1024 / 4 / 3);

}  // namespace biggan::image
