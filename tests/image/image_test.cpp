// Images: PNG round trip, damaged and truncated files refused with the file's name, and the
// geometry of dataset preparation (centre crop, padding, CHW layout, resize).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "image/image.h"

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
  try {
    decode(bytes, "photos/cat.png");
  } catch (const Error& e) {
    return e.what();
  }
  return "(decoded)";
}

TEST(Image, PngRoundTripIsLossless) {
  const Image img = gradient(13, 7);
  const Image back = decode(png_bytes(img), "sheet.png");
  EXPECT_EQ(back.width, 13);
  EXPECT_EQ(back.height, 7);
  EXPECT_EQ(back.rgb, img.rgb);
}

TEST(Image, DamagedPngIsRefusedWithItsName) {
  std::string bytes = png_bytes(gradient(16, 16));
  const auto idat = bytes.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  bytes[idat + 10] = static_cast<char>(bytes[idat + 10] ^ 0x40);  // a flipped bit in the image data
  const std::string message = decode_error(bytes);
  EXPECT_NE(message.find("photos/cat.png: damaged PNG (CRC mismatch in its IDAT chunk"), std::string::npos) << message;
}

TEST(Image, TruncatedPngIsRefusedWithItsName) {
  const std::string bytes = png_bytes(gradient(16, 16));
  const std::string message = decode_error(bytes.substr(0, bytes.size() - 12));  // IEND cut off
  EXPECT_NE(message.find("photos/cat.png: damaged PNG (truncated before its IEND chunk)"), std::string::npos) << message;
}

TEST(Image, BytesThatAreNoImageAreRefusedWithTheirName) {
  const std::string message = decode_error("this is a text file, not a picture");
  EXPECT_NE(message.find("photos/cat.png: cannot decode image"), std::string::npos) << message;
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
    const Image out = resize(flat, w, h);
    ASSERT_EQ(out.width, w);
    ASSERT_EQ(out.height, h);
    for (const auto v : out.rgb) ASSERT_EQ(v, 77);
  }
}

}  // namespace
}  // namespace biggan::image
