// BMP by the rules of PIL's BmpImagePlugin: core, info and v4/v5 headers; 1, 4 and 8-bit
// palettes, 16-bit 5-5-5, 24 and 32-bit (BGRX), and the bitfield layouts PIL accepts.
// RLE-compressed files are refused (PIL decodes them; they are rare in photo datasets).
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace biggan::image::detail {

namespace {

std::uint32_t u32(const std::string& b, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3])) << 24);
}
std::uint16_t u16(const std::string& b, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(b[at]) | (static_cast<unsigned char>(b[at + 1]) << 8));
}

// Where each of R, G, B sits in a 32-bit little-endian pixel (its byte index).
struct ByteOrder {
  int r, g, b;
};

// The bitfield layouts of PIL's MASK_MODES for 32 bits, as byte positions of R, G and B.
bool byte_order_of(std::uint32_t r, std::uint32_t g, std::uint32_t b, std::uint32_t a, ByteOrder& order) {
  struct Known {
    std::uint32_t r, g, b, a;
    ByteOrder order;
  };
  static const Known known[] = {
      {0xFF0000, 0xFF00, 0xFF, 0x0, {2, 1, 0}},             // BGRX
      {0xFF000000, 0xFF0000, 0xFF00, 0x0, {3, 2, 1}},       // XBGR
      {0xFF000000, 0xFF0000, 0xFF00, 0xFF, {3, 2, 1}},      // ABGR
      {0xFF, 0xFF00, 0xFF0000, 0xFF000000, {0, 1, 2}},      // RGBA
      {0xFF0000, 0xFF00, 0xFF, 0xFF000000, {2, 1, 0}},      // BGRA
      {0x0, 0x0, 0x0, 0x0, {2, 1, 0}},                      // BGRA
  };
  for (const auto& k : known)
    if (k.r == r && k.g == g && k.b == b && k.a == a) {
      order = k.order;
      return true;
    }
  return false;
}

}  // namespace

Image decode_bmp(const std::string& bytes, const std::string& source) {
  const auto fail = [&](const std::string& why) { return Error(source + ": cannot decode BMP (" + why + ")"); };
  if (bytes.size() < 18) throw fail("the file is truncated");
  const std::uint32_t offset = u32(bytes, 10);
  const std::uint32_t header_size = u32(bytes, 14);
  if (bytes.size() < 14 + static_cast<std::size_t>(header_size)) throw fail("the file is truncated");
  long long width = 0, height = 0;
  int bits = 0;
  std::uint32_t compression = 0, colors = 0;
  bool top_down = false;
  std::size_t palette_entry = 4;
  std::uint32_t mask[4] = {0, 0, 0, 0};
  std::size_t after_header = 14 + header_size;
  if (header_size == 12) {
    width = u16(bytes, 18);
    height = u16(bytes, 20);
    bits = u16(bytes, 24);
    palette_entry = 3;
  } else if (header_size == 40 || header_size == 64 || header_size == 108 || header_size == 124) {
    width = u32(bytes, 18);
    const std::uint32_t raw_height = u32(bytes, 22);
    top_down = static_cast<unsigned char>(bytes[25]) == 0xFF;
    height = top_down ? (1LL << 32) - raw_height : raw_height;
    bits = u16(bytes, 28);
    compression = u32(bytes, 30);
    colors = u32(bytes, 46);
    if (compression == 3) {
      if (header_size >= 56) {
        for (int i = 0; i < 4; ++i) mask[i] = u32(bytes, 54 + 4 * static_cast<std::size_t>(i));
      } else {
        if (bytes.size() < after_header + 12) throw fail("the file is truncated");
        for (int i = 0; i < 3; ++i) mask[i] = u32(bytes, after_header + 4 * static_cast<std::size_t>(i));
        after_header += 12;
      }
    }
  } else {
    throw fail("unsupported header type " + std::to_string(header_size));
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32)
    throw fail("unsupported pixel depth " + std::to_string(bits));
  if (compression == 1 || compression == 2) throw fail("RLE compression is not supported; save it uncompressed");
  if (compression != 0 && compression != 3) throw fail("unsupported compression " + std::to_string(compression));
  ByteOrder order{2, 1, 0};
  bool five_six_five = false;
  if (compression == 3) {
    if (bits == 32) {
      if (!byte_order_of(mask[0], mask[1], mask[2], mask[3], order)) throw fail("unsupported bitfields layout");
    } else if (bits == 24) {
      if (!(mask[0] == 0xFF0000 && mask[1] == 0xFF00 && mask[2] == 0xFF)) throw fail("unsupported bitfields layout");
    } else if (bits == 16) {
      if (mask[0] == 0xF800 && mask[1] == 0x7E0 && mask[2] == 0x1F) five_six_five = true;
      else if (!(mask[0] == 0x7C00 && mask[1] == 0x3E0 && mask[2] == 0x1F)) throw fail("unsupported bitfields layout");
    } else {
      throw fail("unsupported bitfields layout");
    }
  }
  if (colors == 0) colors = bits <= 16 ? (1u << bits) : 0;
  std::vector<std::uint8_t> palette;  // RGB triples
  std::size_t data_at = offset;
  if (bits <= 8) {
    if (colors == 0 || colors > 65536) throw fail("unsupported palette size " + std::to_string(colors));
    const std::size_t palette_at = after_header;
    if (data_at == 14 + header_size) data_at += 4 * static_cast<std::size_t>(colors);
    if (bytes.size() < palette_at + palette_entry * colors) throw fail("the file is truncated");
    for (std::uint32_t i = 0; i < colors; ++i) {
      const std::size_t at = palette_at + palette_entry * i;
      palette.push_back(static_cast<std::uint8_t>(bytes[at + 2]));
      palette.push_back(static_cast<std::uint8_t>(bytes[at + 1]));
      palette.push_back(static_cast<std::uint8_t>(bytes[at]));
    }
  }
  // No offset in the file header: the pixels follow what was read (PIL's fp.tell()).
  if (data_at == 0) data_at = after_header + (bits <= 8 ? palette_entry * colors : 0);
  Image img = allocate_rgb(width, height, source);
  const std::size_t stride = static_cast<std::size_t>(((width * bits + 31) >> 3) & ~3LL);
  if (data_at > bytes.size() || (bytes.size() - data_at) / stride < static_cast<std::size_t>(height))
    throw fail("the file is truncated");
  for (long long y = 0; y < height; ++y) {
    const auto* row = reinterpret_cast<const unsigned char*>(bytes.data()) + data_at +
                      stride * static_cast<std::size_t>(top_down ? y : height - 1 - y);
    std::uint8_t* out = img.rgb.data() + static_cast<std::size_t>(y * width * 3);
    for (long long x = 0; x < width; ++x, out += 3) {
      if (bits <= 8) {
        const int per_byte = 8 / bits;
        const unsigned index =
            (row[x / per_byte] >> (8 - bits * (x % per_byte + 1))) & ((1u << bits) - 1);
        if (index < colors) std::memcpy(out, &palette[3 * index], 3);
        else out[0] = out[1] = out[2] = 0;
      } else if (bits == 16) {
        const unsigned v = row[2 * x] | (row[2 * x + 1] << 8);
        out[2] = static_cast<std::uint8_t>((v & 31) * 255 / 31);
        if (five_six_five) {
          out[1] = static_cast<std::uint8_t>(((v >> 5) & 63) * 255 / 63);
          out[0] = static_cast<std::uint8_t>(((v >> 11) & 31) * 255 / 31);
        } else {
          out[1] = static_cast<std::uint8_t>(((v >> 5) & 31) * 255 / 31);
          out[0] = static_cast<std::uint8_t>(((v >> 10) & 31) * 255 / 31);
        }
      } else if (bits == 24) {
        out[0] = row[3 * x + 2];
        out[1] = row[3 * x + 1];
        out[2] = row[3 * x];
      } else {
        out[0] = row[4 * x + order.r];
        out[1] = row[4 * x + order.g];
        out[2] = row[4 * x + order.b];
      }
    }
  }
  return img;
}

}  // namespace biggan::image::detail
