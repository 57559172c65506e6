#include "sample/sheets.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <thread>

#include "image/image.h"
#include "sample/generate.h"
#include "sample/noise.h"

namespace biggan::sample {

namespace {

image::Image make_grid(const torch::Tensor& images, int columns) {
  const torch::Tensor x = images.detach().to(torch::kCPU, torch::kFloat32);
  const auto n = x.size(0), h = x.size(2), w = x.size(3);
  const int pad = 2;
  const auto rows = (n + columns - 1) / columns;
  image::Image grid;
  grid.width = static_cast<int>(columns * (w + pad) + pad);
  grid.height = static_cast<int>(rows * (h + pad) + pad);
  grid.rgb.assign(static_cast<std::size_t>(grid.width) * grid.height * 3, 0);
  // [-1, 1] -> [0, 255], rounded, as HWC bytes.
  const torch::Tensor bytes =
      ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch::kUInt8).permute({0, 2, 3, 1}).contiguous();
  const auto* p = bytes.data_ptr<std::uint8_t>();
  for (std::int64_t k = 0; k < n; ++k) {
    const auto x0 = pad + (k % columns) * (w + pad);
    const auto y0 = pad + (k / columns) * (h + pad);
    for (std::int64_t r = 0; r < h; ++r)
      std::memcpy(&grid.rgb[static_cast<std::size_t>(((y0 + r) * grid.width + x0) * 3)], p + (k * h + r) * w * 3,
                  static_cast<std::size_t>(w * 3));
  }
  return grid;
}

// PNG encoding costs about 0.5 s per 10x10 sheet of 128 px images, more than generating the
// sheet on a GPU; with 1000 classes that is 100 sheets per save. Sheets are therefore encoded
// on a few threads while G makes the next ones (bounded, so memory stays at a few sheets).
class GridWriter {
 public:
  GridWriter() : max_in_flight_(std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 8)) {}
  GridWriter(const GridWriter&) = delete;
  GridWriter& operator=(const GridWriter&) = delete;
  ~GridWriter() {
    for (auto& f : in_flight_) f.wait();  // an error is already being reported; just don't leak threads
  }
  void add(const std::string& path, const torch::Tensor& images, int columns) {
    image::Image grid = make_grid(images, columns);
    while (in_flight_.size() >= max_in_flight_) pop();
    in_flight_.push_back(std::async(std::launch::async, [path, g = std::move(grid)] { image::write_png(path, g); }));
  }
  void finish() {
    while (!in_flight_.empty()) pop();
  }

 private:
  void pop() {
    auto f = std::move(in_flight_.front());
    in_flight_.pop_front();
    f.get();  // rethrows a failed write
  }
  std::size_t max_in_flight_;
  std::deque<std::future<void>> in_flight_;
};

}  // namespace

void write_grid(const std::string& path, const torch::Tensor& images, int columns) {
  image::write_png(path, make_grid(images, columns));
}

namespace {

// Rows of `rows` pairs of endpoints with `midpoints` steps between them: (rows * (m + 2), ...).
torch::Tensor interpolate(const torch::Tensor& a, const torch::Tensor& b, int midpoints) {
  // On the endpoints' device: a CPU step vector times CUDA embeddings is a device mismatch.
  const auto steps = torch::linspace(0, 1, midpoints + 2, a.options()).view({1, -1, 1});
  return (a.unsqueeze(1) * (1 - steps) + b.unsqueeze(1) * steps).reshape({-1, a.size(1)});
}

}  // namespace

std::vector<std::string> write_sheets(model::Generator& G, const std::string& folder, const SheetSettings& s) {
  std::filesystem::create_directories(folder);
  std::vector<std::string> written;
  const int n_classes = G->n_classes, dim_z = G->dim_z;
  auto gen = at::detail::createCPUGenerator(s.seed);
  const auto device = G->parameters().front().device();
  torch::NoGradGuard no_grad;
  GridWriter writer;

  // Class sheets: classes_per_sheet rows of samples_per_class images of one class each.
  const int per_sheet = std::max(1, std::min(s.classes_per_sheet, n_classes));
  for (int first = 0, sheet = 0; s.class_sheets && first < n_classes; first += per_sheet, ++sheet) {
    const int classes = std::min(per_sheet, n_classes - first);
    const auto y = torch::arange(first, first + classes, torch::kInt64).repeat_interleave(s.samples_per_class);
    const auto z = sample_z(y.size(0), dim_z, s.z_var, s.truncation, gen);
    const std::string path = folder + "/samples" + std::to_string(sheet) + ".png";
    writer.add(path, generate(G, z, y, s.batch_size), s.samples_per_class);
    written.push_back(path);
  }

  // Interpolations work on the shared embedding, so they need G_shared (as in the original).
  if (!G->G_shared || !s.interpolations) {
    writer.finish();
    return written;
  }
  const int cols = s.interp_midpoints + 2;
  const auto interp = [&](bool fix_z, bool fix_y, const std::string& name) {
    const auto z0 = sample_z(s.interp_rows, dim_z, s.z_var, s.truncation, gen);
    const auto z1 = fix_z ? z0 : sample_z(s.interp_rows, dim_z, s.z_var, s.truncation, gen);
    const auto y0 = torch::randint(0, n_classes, {s.interp_rows}, gen, torch::kInt64);
    const auto y1 = fix_y ? y0 : torch::randint(0, n_classes, {s.interp_rows}, gen, torch::kInt64);
    const auto zs = interpolate(z0, z1, s.interp_midpoints).to(device);
    const auto e0 = G->shared(y0.to(device)), e1 = G->shared(y1.to(device));
    const auto ys = interpolate(e0, e1, s.interp_midpoints);
    std::vector<torch::Tensor> out;
    for (std::int64_t start = 0; start < zs.size(0); start += s.batch_size) {
      const auto n = std::min<std::int64_t>(s.batch_size, zs.size(0) - start);
      out.push_back(G->forward(zs.narrow(0, start, n), ys.narrow(0, start, n)).to(torch::kCPU));
    }
    const std::string path = folder + "/" + name;
    writer.add(path, torch::cat(out), cols);
    written.push_back(path);
  };
  interp(false, false, "interpZY0.png");
  interp(false, true, "interpZ0.png");  // the class stays, z moves
  interp(true, false, "interpY0.png");  // z stays, the class moves
  writer.finish();
  return written;
}

void write_random_sheet(model::Generator& G, const std::string& path, int count, const SheetSettings& s) {
  auto gen = at::detail::createCPUGenerator(s.seed + 1);
  const auto z = sample_z(count, G->dim_z, s.z_var, s.truncation, gen);
  const auto y = torch::randint(0, G->n_classes, {count}, gen, torch::kInt64);
  const int columns = std::max(1, static_cast<int>(std::sqrt(static_cast<double>(count))));
  write_grid(path, generate(G, z, y, s.batch_size), columns);
}

}  // namespace biggan::sample
