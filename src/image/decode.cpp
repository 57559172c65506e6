#include "image/decode.h"

#include "core/error.h"
#include "image/decoders.h"

namespace biggan::image {

namespace detail {

Image allocate_rgb(long long width, long long height, const std::string& source) {
  if (width <= 0 || height <= 0)
    throw Error(source + ": image has an empty size (" + std::to_string(width) + "x" + std::to_string(height) + ")");
  // Divided, not multiplied: a PPM header's ten-digit sizes would overflow the product.
  if (width > kMaxImagePixels / height)
    throw Error(source + ": image of " + std::to_string(width) + "x" + std::to_string(height) + " exceeds PIL's limit of " +
                std::to_string(kMaxImagePixels) + " pixels (a possible decompression bomb)");
  Image img;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.rgb.resize(static_cast<std::size_t>(width * height * 3));
  return img;
}

}  // namespace detail

namespace {

bool starts_with(const std::string& bytes, const char* magic, std::size_t n) {
  return bytes.size() >= n && bytes.compare(0, n, magic, n) == 0;
}

}  // namespace

Image decode(const std::string& bytes, const std::string& source, DecodeDepth depth) {
  if (starts_with(bytes, "\xFF\xD8\xFF", 3)) return detail::decode_jpeg(bytes, source, depth);
  if (starts_with(bytes, "\x89PNG\r\n\x1a\n", 8)) return detail::decode_png(bytes, source);
  if (starts_with(bytes, "BM", 2)) return detail::decode_bmp(bytes, source);
  if (bytes.size() >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '6') return detail::decode_pnm(bytes, source);
  if (starts_with(bytes, "GIF8", 4) || starts_with(bytes, "II*\0", 4) || starts_with(bytes, "MM\0*", 4) ||
      (starts_with(bytes, "RIFF", 4) && bytes.size() >= 12 && bytes.compare(8, 4, "WEBP") == 0))
    throw Error(source + ": cannot decode image (GIF, TIFF and WebP are not supported; convert it to PNG or JPEG)");
  throw Error(source + ": cannot decode image (not a JPEG, PNG, BMP or PPM/PGM/PBM file)");
}

}  // namespace biggan::image
