// Sample sheets: the files BigGAN-PyTorch's save_and_sample writes, their grid layout, and the
// fixed [-1, 1] -> [0, 255] mapping, with sheets encoded on several threads.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/module_options.h"
#include "config/config.h"
#include "image/decode.h"
#include "image/image.h"
#include "model/networks.h"
#include "sample/noise.h"
#include "sample/generate.h"
#include "sample/sheets.h"

namespace biggan::sample {
namespace {

namespace fs = std::filesystem;

image::Image read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return image::decode(bytes.str(), path);
}

TEST(Sheets, ClassSheetsAndInterpolationsMatchTheGenerator) {
  const auto config = config::load({}, {"data.dataset=custom", "data.path=x.h5", "data.resolution=32", "data.n_classes=7",
                                        "model.G_ch=4", "model.D_ch=4", "model.G_shared=true", "model.hier=true",
                                        "model.dim_z=20", "model.shared_dim=8"},
                                   1);
  torch::manual_seed(0);
  model::Generator G(config::generator_options(config));
  G->eval();
  const std::string dir = (fs::temp_directory_path() / ("biggan_sheets_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  SheetSettings s;
  s.classes_per_sheet = 3;
  s.samples_per_class = 4;
  s.interp_rows = 2;
  s.interp_midpoints = 3;
  s.batch_size = 5;
  s.seed = 11;
  const auto files = write_sheets(G, dir, s);
  // 7 classes at 3 per sheet: 3 class sheets, then the three interpolation sheets.
  const std::vector<std::string> expected{dir + "/samples0.png",    dir + "/samples1.png", dir + "/samples2.png",
                                          dir + "/interpZY0.png", dir + "/interpZ0.png", dir + "/interpY0.png"};
  EXPECT_EQ(files, expected);
  for (const auto& f : files) EXPECT_TRUE(fs::exists(f)) << f;

  // Sheet 0: 3 rows (classes 0..2) x 4 columns, 2-px padding, pixels as G makes them.
  const image::Image sheet = read_png(dir + "/samples0.png");
  EXPECT_EQ(sheet.width, 4 * 34 + 2);
  EXPECT_EQ(sheet.height, 3 * 34 + 2);
  auto gen = at::detail::createCPUGenerator(s.seed);
  const auto y = torch::arange(0, 3, torch::kInt64).repeat_interleave(4);
  const auto z = sample_z(12, 20, s.z_var, s.truncation, gen);
  const auto images = generate(G, z, y, s.batch_size);
  const auto expect_pixel = [&](int k, int c, int r, int col) {
    const float v = images[k][c][r][col].item<float>();
    return static_cast<int>(std::nearbyint((std::clamp(v, -1.0f, 1.0f) + 1) * 127.5f));
  };
  for (const auto& [k, r, col] : std::vector<std::tuple<int, int, int>>{{0, 0, 0}, {5, 7, 30}, {11, 31, 31}}) {
    const int x0 = 2 + (k % 4) * 34 + col, y0 = 2 + (k / 4) * 34 + r;
    for (int c = 0; c < 3; ++c)
      EXPECT_NEAR(sheet.rgb[(static_cast<std::size_t>(y0) * sheet.width + x0) * 3 + c], expect_pixel(k, c, r, col), 1)
          << "image " << k << " channel " << c;
  }
  EXPECT_EQ(sheet.rgb[0], 0);  // padding is black

  // Interpolations: 2 rows of 3 midpoints + 2 endpoints.
  const image::Image interp = read_png(dir + "/interpY0.png");
  EXPECT_EQ(interp.width, 5 * 34 + 2);
  EXPECT_EQ(interp.height, 2 * 34 + 2);

  // The same seed gives the same sheets byte for byte (they compare across training).
  const std::string again = dir + "/again";
  write_sheets(G, again, s);
  for (const char* f : {"samples1.png", "interpZ0.png"}) {
    std::ifstream a(dir + "/" + f, std::ios::binary), b(again + "/" + f, std::ios::binary);
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    EXPECT_EQ(sa.str(), sb.str()) << f;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace biggan::sample
