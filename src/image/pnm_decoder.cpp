// PPM, PGM and PBM (binary P4-P6 and plain P1-P3) by the rules of PIL's PpmImagePlugin,
// including its rescaling of a maxval other than 255 (Python's round, half to even) and its
// "I" mode for deep grayscale, which convert('RGB') clips at 255.
#include <cctype>
#include <cmath>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "image/decoders.h"

namespace biggan::image::detail {

namespace {

class Header {
 public:
  Header(const std::string& bytes, const std::string& source) : bytes_(bytes), source_(source) {}
  // The next whitespace-separated token; '#' starts a comment that runs to the end of the line.
  long long token() {
    std::string digits;
    while (at_ < bytes_.size()) {
      const char c = bytes_[at_++];
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (digits.empty()) continue;
        break;
      }
      if (c == '#') {
        while (at_ < bytes_.size() && bytes_[at_] != '\r' && bytes_[at_] != '\n') ++at_;
        continue;
      }
      digits += c;
      if (digits.size() > 10) throw Error(source_ + ": cannot decode PPM (a header token is too long)");
    }
    if (digits.empty()) throw Error(source_ + ": cannot decode PPM (the header ends early)");
    if (digits.find_first_not_of("0123456789") != std::string::npos)
      throw Error(source_ + ": cannot decode PPM (header value '" + digits + "' is not a number)");
    return std::stoll(digits);
  }
  std::size_t position() const { return at_; }

 private:
  const std::string& bytes_;
  const std::string& source_;
  std::size_t at_ = 2;
};

// Plain-format samples: whitespace-separated numbers, with comments.
class PlainSamples {
 public:
  PlainSamples(const std::string& bytes, std::size_t at, const std::string& source)
      : bytes_(bytes), at_(at), source_(source) {}
  long long next(bool single_character) {
    std::string digits;
    while (at_ < bytes_.size()) {
      const char c = bytes_[at_];
      if (c == '#') {
        while (at_ < bytes_.size() && bytes_[at_] != '\r' && bytes_[at_] != '\n') ++at_;
        if (!digits.empty()) break;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++at_;
        if (digits.empty()) continue;
        break;
      }
      digits += c;
      ++at_;
      if (single_character) break;
      if (digits.size() > 10) throw Error(source_ + ": cannot decode PPM (a sample is too long)");
    }
    if (digits.empty()) throw Error(source_ + ": cannot decode PPM (the file is truncated)");
    if (digits.find_first_not_of("0123456789") != std::string::npos)
      throw Error(source_ + ": cannot decode PPM (sample '" + digits + "' is not a number)");
    return std::stoll(digits);
  }

 private:
  const std::string& bytes_;
  std::size_t at_;
  const std::string& source_;
};

// Python's round(value / maxval * out_max): nearbyint rounds half to even in the default mode.
std::uint32_t rescale(long long value, long long maxval, long long out_max) {
  return static_cast<std::uint32_t>(std::nearbyint(static_cast<double>(value) / static_cast<double>(maxval) *
                                                    static_cast<double>(out_max)));
}

}  // namespace

Image decode_pnm(const std::string& bytes, const std::string& source) {
  const char kind = bytes[1];
  if (bytes.size() < 3 || !std::isspace(static_cast<unsigned char>(bytes[2])))
    throw Error(source + ": cannot decode PPM (not a PPM file)");
  const bool plain = kind <= '3';
  const bool bitmap = kind == '1' || kind == '4';
  const int bands = (kind == '3' || kind == '6') ? 3 : 1;
  Header header(bytes, source);
  const long long width = header.token();
  const long long height = header.token();
  long long maxval = 1;
  if (!bitmap) {
    maxval = header.token();
    if (maxval <= 0 || maxval >= 65536)
      throw Error(source + ": cannot decode PPM (maxval must be greater than 0 and less than 65536, got " +
                  std::to_string(maxval) + ")");
  }
  Image img = allocate_rgb(width, height, source);
  const std::size_t pixels = static_cast<std::size_t>(width * height);
  // PIL keeps deep grayscale as 32-bit "I" (0..65535), which convert('RGB') clips at 255.
  const bool deep_gray = bands == 1 && maxval > 255;
  const long long out_max = deep_gray ? 65535 : 255;
  const auto store = [&](std::size_t i, int band, std::uint32_t v) {
    const auto byte = static_cast<std::uint8_t>(std::min<std::uint32_t>(v, 255));
    if (bands == 3) img.rgb[3 * i + band] = byte;
    else img.rgb[3 * i] = img.rgb[3 * i + 1] = img.rgb[3 * i + 2] = byte;
  };
  std::size_t at = header.position();
  if (bitmap && !plain) {
    const std::size_t stride = static_cast<std::size_t>((width + 7) / 8);
    if ((bytes.size() - at) / stride < static_cast<std::size_t>(height))
      throw Error(source + ": damaged PPM (the file is truncated)");
    for (long long y = 0; y < height; ++y)
      for (long long x = 0; x < width; ++x) {
        const bool black = (bytes[at + y * stride + x / 8] >> (7 - x % 8)) & 1;
        store(static_cast<std::size_t>(y * width + x), 0, black ? 0 : 255);
      }
    return img;
  }
  if (plain) {
    PlainSamples samples(bytes, at, source);
    for (std::size_t i = 0; i < pixels; ++i)
      for (int b = 0; b < bands; ++b) {
        const long long v = samples.next(bitmap);
        if (bitmap) {
          if (v > 1) throw Error(source + ": cannot decode PPM (bitmap sample " + std::to_string(v) + " is not 0 or 1)");
          store(i, b, v ? 0 : 255);
        } else {
          if (v > maxval)
            throw Error(source + ": cannot decode PPM (sample " + std::to_string(v) + " exceeds maxval " +
                        std::to_string(maxval) + ")");
          store(i, b, rescale(v, maxval, out_max));
        }
      }
    return img;
  }
  const std::size_t sample_bytes = maxval < 256 ? 1 : 2;
  if ((bytes.size() - at) / (sample_bytes * bands) < pixels) throw Error(source + ": damaged PPM (the file is truncated)");
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data()) + at;
  for (std::size_t i = 0; i < pixels; ++i)
    for (int b = 0; b < bands; ++b) {
      const std::size_t k = i * bands + b;
      const long long v = sample_bytes == 1 ? data[k] : (data[2 * k] << 8) | data[2 * k + 1];
      if (maxval == 255) store(i, b, static_cast<std::uint32_t>(v));
      else if (maxval == 65535 && deep_gray) store(i, b, static_cast<std::uint32_t>(v));
      else store(i, b, std::min<std::uint32_t>(static_cast<std::uint32_t>(out_max), rescale(v, maxval, out_max)));
    }
  return img;
}

}  // namespace biggan::image::detail
