// Images: PNG round trip, damaged, truncated and unsupported files refused with the file's name,
// and the geometry of dataset preparation (centre crop, padding, CHW layout, resize). Pixel
// parity with PIL over many formats is tests/data/pil_parity_test.py.
#include <gtest/gtest.h>

#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include "../error_of.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "image/decode.h"
#include "image/image.h"
#include "image/resample.h"

namespace biggan::image {
namespace {

namespace fs = std::filesystem;

Image gradient(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<std::size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        img.rgb[static_cast<std::size_t>((y * width + x) * 3 + c)] = static_cast<std::uint8_t>((x * 7 + y * 13 + c * 50) % 256);
  return img;
}

std::string png_bytes(const Image& img) {
  const std::string path = "/tmp/biggan_image_test_" + std::to_string(::getpid()) + ".png";
  write_png(path, img);
  const std::string bytes = read_file(path);
  fs::remove(path);
  return bytes;
}

std::string decode_error(const std::string& bytes) {
  return testing::error_of([&] { decode(bytes, "photos/cat.png"); });
}

TEST(Image, PngRoundTripIsLossless) {
  const Image img = gradient(13, 7);
  const Image back = decode(png_bytes(img), "sheet.png");
  EXPECT_EQ(back.width, 13);
  EXPECT_EQ(back.height, 7);
  EXPECT_EQ(back.rgb, img.rgb);
}

TEST(Image, DamagedPngIsRefusedWithItsName) {
  const std::string good = png_bytes(gradient(16, 16));
  const auto idat = good.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  std::string bytes = good;
  bytes[idat + 10] = static_cast<char>(bytes[idat + 10] ^ 0x40);  // a flipped bit in the image data
  std::string message = decode_error(bytes);
  EXPECT_NE(message.find("photos/cat.png: damaged PNG ("), std::string::npos) << message;
  // A flipped bit in the chunk's CRC: the data still inflates, only the checksum tells.
  const std::uint32_t length = (static_cast<unsigned char>(good[idat - 4]) << 24) |
                               (static_cast<unsigned char>(good[idat - 3]) << 16) |
                               (static_cast<unsigned char>(good[idat - 2]) << 8) | static_cast<unsigned char>(good[idat - 1]);
  bytes = good;
  bytes[idat + 4 + length] = static_cast<char>(bytes[idat + 4 + length] ^ 0x01);
  message = decode_error(bytes);
  EXPECT_NE(message.find("photos/cat.png: damaged PNG (IDAT: CRC error)"), std::string::npos) << message;
}

TEST(Image, TruncatedPngIsRefusedWithItsName) {
  const std::string bytes = png_bytes(gradient(16, 16));
  const std::string message = decode_error(bytes.substr(0, bytes.size() - 12));  // IEND cut off
  EXPECT_NE(message.find("photos/cat.png: damaged PNG (the file is truncated)"), std::string::npos) << message;
}

TEST(Image, BytesThatAreNoImageAreRefusedWithTheirName) {
  const std::string message = decode_error("this is a text file, not a picture");
  EXPECT_NE(message.find("photos/cat.png: cannot decode image (not a JPEG, PNG, BMP or PPM/PGM/PBM file)"),
            std::string::npos)
      << message;
}

TEST(Image, FormatsPilReadsButWeDoNotAreNamed) {
  const std::string message = decode_error("GIF89a\x01\x00\x01\x00");
  EXPECT_NE(message.find("photos/cat.png: cannot decode image (GIF, TIFF and WebP are not supported"), std::string::npos)
      << message;
}

// The IHDR of a PNG claiming width x height (the CRC is right, the data absent).
std::string png_header_claiming(std::uint32_t width, std::uint32_t height) {
  std::string bytes = png_bytes(gradient(2, 2));
  for (int i = 0; i < 4; ++i) {
    bytes[16 + i] = static_cast<char>(width >> (24 - 8 * i));
    bytes[20 + i] = static_cast<char>(height >> (24 - 8 * i));
  }
  const auto crc = static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const unsigned char*>(bytes.data()) + 12, 17));
  for (int i = 0; i < 4; ++i) bytes[29 + i] = static_cast<char>(crc >> (24 - 8 * i));
  return bytes;
}

TEST(Image, DecompressionBombsAreRefusedAsPilRefusesThem) {
  const std::string message = decode_error(png_header_claiming(20000, 20000));
  EXPECT_NE(message.find("photos/cat.png: damaged PNG (the image exceeds PIL's pixel limit"), std::string::npos) << message;
  // 2^32 x 2^32 pixels: the product overflows 64 bits to 0, which a multiplied check let through
  // as an empty image.
  const std::string overflow = decode_error("P6\n4294967296 4294967296\n255\n");
  EXPECT_NE(overflow.find("photos/cat.png: image of 4294967296x4294967296 exceeds PIL's limit"), std::string::npos)
      << overflow;
}

TEST(Image, TruncatedJpegIsRefusedAsPilRefusesIt) {
  // An 8 x 8 JPEG written by PIL.
  const std::string bytes = read_file(std::string(BIGGAN_SOURCE_DIR) + "/tests/image/tiny.jpg");
  EXPECT_EQ(decode(bytes, "ok.jpg").width, 8);
  EXPECT_EQ(decode(bytes, "ok.jpg", DecodeDepth::verify).width, 1);  // checked at 1/8 scale
  const std::string message = decode_error(bytes.substr(0, bytes.size() - 2));  // only the EOI marker gone
  EXPECT_NE(message.find("photos/cat.png: damaged JPEG (the file is truncated)"), std::string::npos) << message;
}

TEST(Image, BmpAndPpmErrorsNameTheProblem) {
  std::string rle = "BM";
  rle += std::string(8, '\0') + std::string("\x36\0\0\0", 4);
  std::string info(40, '\0');
  info[0] = 40;
  info[4] = 4;    // width
  info[8] = 4;    // height
  info[12] = 1;   // planes
  info[14] = 8;   // bits
  info[16] = 1;   // BI_RLE8
  rle += info + std::string(1024 + 64, '\0');
  std::string message = decode_error(rle);
  EXPECT_NE(message.find("photos/cat.png: cannot decode BMP (RLE compression is not supported"), std::string::npos)
      << message;
  message = decode_error("P6\n2 2\n70000\n");
  EXPECT_NE(message.find("maxval must be greater than 0 and less than 65536, got 70000"), std::string::npos) << message;
  message = decode_error("P6\n4 4\n255\nabc");
  EXPECT_NE(message.find("photos/cat.png: damaged PPM (the file is truncated)"), std::string::npos) << message;
}

TEST(Image, PpmRescalesAMaxvalOtherThan255AsPilRounds) {
  // 1/2 * 255 = 127.5 -> 128 (half to even), 1/3 * 255 = 85, 2/3 * 255 = 170.
  const Image img = decode(std::string("P5 4 1 2\n") + std::string("\0\1\2\1", 4), "x.pgm");
  ASSERT_EQ(img.width, 4);
  EXPECT_EQ(img.rgb[0], 0);
  EXPECT_EQ(img.rgb[3], 128);
  EXPECT_EQ(img.rgb[6], 255);
  const Image deep = decode(std::string("P5 2 1 65535\n") + std::string("\x00\xC8\x01\x00", 4), "y.pgm");
  EXPECT_EQ(deep.rgb[0], 200);  // PIL's "I" mode: values above 255 clip
  EXPECT_EQ(deep.rgb[3], 255);
}

TEST(Image, CenterCropRoundsItsOffsetHalfToEvenAsTorchvision) {
  // An excess of 3 columns: round(1.5) = 2 in Python; 5 columns: round(2.5) = 2; 1: round(0.5) = 0.
  for (const auto& [width, offset] : {std::pair{7, 2}, std::pair{9, 2}, std::pair{5, 0}, std::pair{11, 4}}) {
    const Image wide = gradient(width, 4);
    const Image square = center_crop_square(wide);
    EXPECT_EQ(square.rgb[0], wide.rgb[static_cast<std::size_t>(offset * 3)]) << "width " << width;
  }
}

TEST(Image, CenterCropKeepsTheMiddleSquare) {
  const Image wide = gradient(10, 4);
  const Image square = center_crop_square(wide);
  ASSERT_EQ(square.width, 4);
  ASSERT_EQ(square.height, 4);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x)
      EXPECT_EQ(square.rgb[static_cast<std::size_t>((y * 4 + x) * 3)], wide.rgb[static_cast<std::size_t>((y * 10 + x + 3) * 3)]);
}

TEST(Image, PadCenterSurroundsWithTheValue) {
  const Image small = gradient(2, 2);
  const Image padded = pad_center(small, 4, 4, 9);
  ASSERT_EQ(padded.rgb.size(), 4u * 4u * 3u);
  EXPECT_EQ(padded.rgb[0], 9);                                   // corner
  EXPECT_EQ(padded.rgb[(1 * 4 + 1) * 3], small.rgb[0]);          // the image starts at (1, 1)
  EXPECT_THROW(pad_center(gradient(5, 5), 4, 4, 0), Error);
}

TEST(Image, ChwLayoutIsPlaneByPlane) {
  const Image img = gradient(3, 2);
  std::vector<std::uint8_t> chw(img.rgb.size());
  to_chw(img, chw.data());
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(chw[static_cast<std::size_t>(c * 6 + i)], img.rgb[static_cast<std::size_t>(i * 3 + c)]);
}

TEST(Image, ResizeOfAFlatImageStaysFlatAtTheNewSize) {
  Image flat;
  flat.width = 20;
  flat.height = 12;
  flat.rgb.assign(20 * 12 * 3, 77);
  for (const auto& [w, h] : {std::pair{5, 3}, std::pair{40, 24}}) {
    const Image out = resize_bilinear(flat, w, h);
    ASSERT_EQ(out.width, w);
    ASSERT_EQ(out.height, h);
    for (const auto v : out.rgb) ASSERT_EQ(v, 77);
  }
}

}  // namespace
}  // namespace biggan::image
