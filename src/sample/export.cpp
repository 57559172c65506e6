#include "sample/export.h"

#include <filesystem>

#include "data/index_order.h"
#include "io/h5_tensors.h"
#include "io/npz.h"
#include "logging/progress.h"
#include "sample/noise.h"

namespace biggan::sample {

namespace fs = std::filesystem;

torch::Tensor to_uint8(const torch::Tensor& images) {
  return ((images.detach().to(torch::kCPU, torch::kFloat32) + 1) * 127.5).round().clamp(0, 255).to(torch::kUInt8);
}

std::string export_samples(model::Generator& G, const std::string& folder, const ExportOptions& o,
                           distributed::Collectives& collectives) {
  torch::NoGradGuard no_grad;
  const int rank = collectives.rank(), world = collectives.world_size();
  if (rank == 0) fs::create_directories(folder);
  collectives.context().barrier();
  const auto [first, last] = data::IndexOrder::shard(o.count, rank, world);
  const auto device = G->parameters().front().device();
  std::unique_ptr<logging::Progress> progress;
  if (o.progress && rank == 0)
    progress = std::make_unique<logging::Progress>("samples", last - first,
                                               logging::ProgressStyle::automatic);
  std::vector<torch::Tensor> xs, ys;
  for (std::int64_t i = first; i < last; i += o.batch_size) {
    const std::int64_t n = std::min(o.batch_size, last - i);
    // Keyed by index: the same file on any number of ranks.
    const auto latents =
        keyed_latents(LatentPurpose::samples_export, o.seed, i, n, G->dim_z, G->n_classes, o.z_var, o.truncation);
    const auto z = latents.z.to(device);
    const auto y = latents.y;
    xs.push_back(to_uint8(G->forward(z, G->shared(y.to(device)))));
    ys.push_back(y);
    if (progress) progress->update(i + n - first);
  }
  if (progress) progress->finish(last - first);
  const std::string part = folder + "/.part" + std::to_string(rank) + ".h5";
  {
    io::H5File out(part, io::H5File::Mode::create);
    const auto R = G->resolution;
    out.write("x", xs.empty() ? torch::empty({0, 3, R, R}, torch::kUInt8) : torch::cat(xs));
    out.write("y", ys.empty() ? torch::empty({0}, torch::kInt64) : torch::cat(ys));
  }
  collectives.context().barrier();
  const std::string npz = folder + "/samples.npz";
  if (rank == 0) {
    std::vector<torch::Tensor> all_x, all_y;
    for (int r = 0; r < world; ++r) {
      const std::string p = folder + "/.part" + std::to_string(r) + ".h5";
      io::H5File in(p, io::H5File::Mode::read);
      all_x.push_back(in.read("x"));
      all_y.push_back(in.read("y"));
    }
    const auto x = torch::cat(all_x), y = torch::cat(all_y);
    io::write_npz(npz, {{"x", x}, {"y", y}});
    io::write_h5_atomically(folder + "/samples.h5", [&](io::H5File& out) {
      out.write("x", x);
      out.write("y", y);
    });
    for (int r = 0; r < world; ++r) fs::remove(folder + "/.part" + std::to_string(r) + ".h5");
  }
  collectives.context().barrier();
  return npz;
}

}  // namespace biggan::sample
