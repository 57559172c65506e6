// PNG through libpng, converted as PIL converts each PNG mode to RGB. libpng checks every
// chunk's CRC and zlib's Adler-32; PIL checks only the chunks before the image data, so a
// flipped bit in IDAT would decode into wrong pixels there. Here any damage refuses the file.
#include <png.h>

#include <csetjmp>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace biggan::image::detail {

namespace {

struct Reader {
  const std::string* bytes;
  std::size_t at;
  char message[256];
};

extern "C" void on_png_error(png_structp png, png_const_charp message) {
  auto* reader = static_cast<Reader*>(png_get_error_ptr(png));
  std::snprintf(reader->message, sizeof reader->message, "%s", message);
  png_longjmp(png, 1);
}

extern "C" void on_png_warning(png_structp, png_const_charp) {}

extern "C" void read_png_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* reader = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > reader->bytes->size() - reader->at) png_error(png, "the file is truncated");
  std::memcpy(out, reader->bytes->data() + reader->at, n);
  reader->at += n;
}

struct Raw {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
  std::size_t row_bytes = 0;
  std::vector<png_color> palette;
};

// Rows as stored, except that depths below 8 are unpacked to one sample per byte (no scaling)
// and interlacing is undone. Returns false with reader.message set on failure.
bool run_libpng(Reader& reader, std::vector<unsigned char>& rows, std::vector<png_bytep>& row_pointers, Raw& raw) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &reader, on_png_error, on_png_warning);
  if (!png) {
    std::snprintf(reader.message, sizeof reader.message, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, &reader, read_png_bytes);
  png_set_crc_action(png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
  // PIL has no limit on the size of one chunk; libpng's default (8 MB) refuses large text.
  png_set_chunk_malloc_max(png, 0);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  raw.width = png_get_image_width(png, info);
  raw.height = png_get_image_height(png, info);
  raw.bit_depth = png_get_bit_depth(png, info);
  raw.color_type = png_get_color_type(png, info);
  if (static_cast<long long>(raw.width) * raw.height > kMaxImagePixels)
    png_error(png, "the image exceeds PIL's pixel limit (a possible decompression bomb)");
  if (raw.color_type == PNG_COLOR_TYPE_PALETTE) {
    png_colorp colors = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &colors, &count) == PNG_INFO_PLTE) raw.palette.assign(colors, colors + count);
  }
  if (raw.bit_depth < 8) png_set_packing(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  raw.row_bytes = png_get_rowbytes(png, info);
  rows.resize(raw.row_bytes * raw.height);
  row_pointers.resize(raw.height);
  for (png_uint_32 y = 0; y < raw.height; ++y) row_pointers[y] = rows.data() + raw.row_bytes * y;
  png_read_image(png, row_pointers.data());
  png_read_end(png, nullptr);  // the chunks after the image data: their CRCs and IEND
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

// One stored sample as 8 bits, as PIL's unpackers produce it (16-bit: the high byte).
inline unsigned sample(const unsigned char* row, std::size_t index, int bit_depth) {
  return bit_depth == 16 ? row[2 * index] : row[index];
}

}  // namespace

Image decode_png(const std::string& bytes, const std::string& source) {
  Reader reader{&bytes, 0, {}};
  std::vector<unsigned char> rows;
  std::vector<png_bytep> row_pointers;
  Raw raw;
  if (!run_libpng(reader, rows, row_pointers, raw)) throw Error(source + ": damaged PNG (" + std::string(reader.message) + ")");
  Image img = allocate_rgb(raw.width, raw.height, source);
  const int depth = raw.bit_depth;
  for (png_uint_32 y = 0; y < raw.height; ++y) {
    const unsigned char* row = rows.data() + raw.row_bytes * y;
    std::uint8_t* out = img.rgb.data() + static_cast<std::size_t>(y) * raw.width * 3;
    for (png_uint_32 x = 0; x < raw.width; ++x, out += 3) {
      switch (raw.color_type) {
        case PNG_COLOR_TYPE_GRAY: {
          unsigned v;
          if (depth == 16) v = std::min(255u, (static_cast<unsigned>(row[2 * x]) << 8) | row[2 * x + 1]);  // "I" -> RGB clips
          else if (depth == 8) v = row[x];
          else v = row[x] * (255u / ((1u << depth) - 1));  // L;1 L;2 L;4 scale to 0..255
          out[0] = out[1] = out[2] = static_cast<std::uint8_t>(v);
          break;
        }
        case PNG_COLOR_TYPE_GRAY_ALPHA:
          out[0] = out[1] = out[2] = static_cast<std::uint8_t>(sample(row, 2 * x, depth));
          break;
        case PNG_COLOR_TYPE_RGB:
          for (int c = 0; c < 3; ++c) out[c] = static_cast<std::uint8_t>(sample(row, 3 * x + c, depth));
          break;
        case PNG_COLOR_TYPE_RGB_ALPHA:
          for (int c = 0; c < 3; ++c) out[c] = static_cast<std::uint8_t>(sample(row, 4 * x + c, depth));
          break;
        case PNG_COLOR_TYPE_PALETTE: {
          // Indices past the palette are black, as in PIL's zero-filled palette.
          const unsigned index = row[x];
          if (index < raw.palette.size()) {
            out[0] = raw.palette[index].red;
            out[1] = raw.palette[index].green;
            out[2] = raw.palette[index].blue;
          } else {
            out[0] = out[1] = out[2] = 0;
          }
          break;
        }
        default:
          throw Error(source + ": PNG colour type " + std::to_string(raw.color_type) + " is not supported");
      }
    }
  }
  return img;
}

}  // namespace biggan::image::detail
