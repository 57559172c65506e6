// make_hdf5.py's float round trip: which values it stores one lower. The whole table is checked
// against torch itself by tests/data/pil_parity_test.py; here, its shape.
#include <gtest/gtest.h>

#include "data/biggan_pytorch_bytes.h"

namespace biggan::data {
namespace {

TEST(BigganPytorchBytes, TruncationLowersSomeValuesByOneAndNeverMore) {
  int lowered = 0;
  for (int v = 0; v < 256; ++v) {
    const int stored = biggan_pytorch_byte(static_cast<std::uint8_t>(v));
    ASSERT_TRUE(stored == v || stored == v - 1) << v << " -> " << stored;
    lowered += stored != v;
  }
  EXPECT_EQ(lowered, 63);  // measured with torch 1.13 float32: (255 * ((x + 1) / 2)).byte()
  EXPECT_EQ(biggan_pytorch_byte(0), 0);
  EXPECT_EQ(biggan_pytorch_byte(1), 0);
  EXPECT_EQ(biggan_pytorch_byte(255), 255);
}

TEST(BigganPytorchBytes, AppliesToEveryChannel) {
  image::Image img;
  img.width = img.height = 1;
  img.rgb = {1, 2, 255};
  apply_biggan_pytorch_bytes(img);
  EXPECT_EQ(img.rgb, (std::vector<std::uint8_t>{0, 1, 255}));
}

}  // namespace
}  // namespace biggan::data
