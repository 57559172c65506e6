#include "metrics/dataset_moments.h"

#include <filesystem>
#include <memory>

#include "core/error.h"
#include "data/dataset_file.h"
#include "data/index_order.h"
#include "data/loader.h"
#include "io/h5_tensors.h"
#include "io/npz.h"
#include "logging/progress.h"

namespace biggan::metrics {

namespace fs = std::filesystem;

void save_dataset_moments(const DatasetMoments& m, const std::string& h5_path, const std::string& npz_path) {
  io::write_h5_atomically(h5_path, [&](io::H5File& out) {
    out.write("mu", m.moments.mu);
    out.write("sigma", m.moments.sigma);
    out.write("count", torch::tensor(m.moments.count, torch::kInt64));
    out.write("IS_mean", torch::tensor(m.inception_score.mean, torch::kFloat64));
    out.write("IS_std", torch::tensor(m.inception_score.std, torch::kFloat64));
    out.write("flavour", torch::tensor(static_cast<std::int64_t>(m.flavour == InceptionFlavour::fid), torch::kInt64));
  });
  // BigGAN-PyTorch's calculate_inception_moments.py: mu float32 (np.mean of float32 features),
  // sigma float64 (np.cov).
  if (!npz_path.empty())
    io::write_npz(npz_path, {{"mu", m.moments.mu.to(torch::kFloat32)}, {"sigma", m.moments.sigma.to(torch::kFloat64)}});
}

DatasetMoments load_dataset_moments(const std::string& path) {
  if (!fs::exists(path))
    throw Error(path + ": no Inception moments; compute them with 'biggan inception-moments' (see README)");
  DatasetMoments m;
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0) {
    auto arrays = io::read_npz(path);
    for (const char* key : {"mu", "sigma"})
      if (!arrays.count(key)) throw Error(path + ": no '" + std::string(key) + "' array (BigGAN-PyTorch's moments have mu, sigma)");
    m.moments.mu = arrays["mu"].to(torch::kFloat64);
    m.moments.sigma = arrays["sigma"].to(torch::kFloat64);
    m.flavour = InceptionFlavour::torchvision;
  } else {
    io::H5File in(path, io::H5File::Mode::read);
    m.moments.mu = in.read("mu").to(torch::kFloat64);
    m.moments.sigma = in.read("sigma").to(torch::kFloat64);
    m.moments.count = in.read("count").item<std::int64_t>();
    m.inception_score.mean = in.read("IS_mean").item<double>();
    m.inception_score.std = in.read("IS_std").item<double>();
    m.flavour = in.read("flavour").item<std::int64_t>() ? InceptionFlavour::fid : InceptionFlavour::torchvision;
  }
  const auto d = m.moments.mu.numel();
  if (m.moments.mu.dim() != 1 || m.moments.sigma.sizes() != torch::IntArrayRef({d, d}))
    throw Error(path + ": mu must be (D,) and sigma (D, D)");
  return m;
}

DatasetMoments compute_dataset_moments(InceptionV3& net, const std::string& dataset_path, std::int64_t batch_size,
                                       distributed::Collectives& collectives, bool show_progress) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto header = data::inspect_dataset(dataset_path);
  const auto [first, last] = data::IndexOrder::shard(header.size, collectives.rank(), collectives.world_size());
  io::H5File file(dataset_path, io::H5File::Mode::read);
  MomentAccumulator moments;
  InceptionScoreAccumulator score(header.size, 10);
  std::unique_ptr<logging::Progress> progress;
  if (show_progress && collectives.rank() == 0)
    progress = std::make_unique<logging::Progress>("moments", last - first, logging::ProgressStyle::automatic);
  for (std::int64_t i = first; i < last; i += batch_size) {
    const std::int64_t n = std::min(batch_size, last - i);
    const auto out = net->forward(data::normalize_images(file.read_rows("imgs", i, n)).to(net->parameters().front().device()));
    moments.add(out.pool);
    score.add(out.logits, i);  // file order, as BigGAN-PyTorch's unshuffled loader
    if (progress) progress->update(i + n - first);
  }
  if (progress) progress->finish(last - first);
  DatasetMoments m;
  m.moments = moments.finalize(collectives);
  m.inception_score = score.finalize(collectives);
  m.flavour = net->flavour();
  m.dataset = dataset_path;
  return m;
}

}  // namespace biggan::metrics
