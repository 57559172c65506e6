#include "metrics/inception_metrics.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "data/dataset_file.h"
#include "data/loader.h"
#include "data/sampler.h"
#include "io/h5_tensors.h"
#include "io/npz.h"
#include "log/log.h"
#include "log/progress.h"
#include "sample/noise.h"

namespace biggan::metrics {

namespace fs = std::filesystem;

InceptionScoreAccumulator::InceptionScoreAccumulator(std::int64_t total, int splits)
    : total_(total), chunk_(splits > 0 ? total / splits : 0), splits_(splits) {
  if (splits < 1) throw Error("Inception Score: splits must be >= 1, got " + std::to_string(splits));
  if (chunk_ < 1)
    throw Error("Inception Score: " + std::to_string(total) + " samples cannot make " + std::to_string(splits) + " splits");
  entropy_ = torch::zeros({splits}, torch::kFloat64);
}

void InceptionScoreAccumulator::add(const torch::Tensor& logits, std::int64_t global_offset) {
  const torch::Tensor log_p = torch::log_softmax(logits.detach().to(torch::kCPU, torch::kFloat64), 1);
  if (!class_sums_.defined()) class_sums_ = torch::zeros({splits_, log_p.size(1)}, torch::kFloat64);
  add_split_sums(log_p, global_offset, chunk_, class_sums_, entropy_);
}

InceptionScore InceptionScoreAccumulator::finalize(dist::Collectives& collectives) const {
  // A rank without samples learns the class count from the others.
  torch::Tensor width = torch::tensor({class_sums_.defined() ? class_sums_.size(1) : 0}, torch::kInt64);
  collectives.allreduce_(width, dist::ReduceOp::max);
  torch::Tensor sums = class_sums_.defined() ? class_sums_.clone()
                                             : torch::zeros({splits_, width.item<std::int64_t>()}, torch::kFloat64);
  torch::Tensor entropy = entropy_.clone();
  collectives.allreduce_(sums);
  collectives.allreduce_(entropy);
  return score_from_split_sums(sums, entropy, chunk_);
}

InceptionV3 load_configured_inception(const config::Config& c, const std::string& weights_in) {
  const auto flavour = parse_inception_flavour(c.eval.inception_flavour);
  const std::string weights = weights_in.empty() ? c.eval.inception_weights : weights_in;
  const std::string source = flavour == InceptionFlavour::fid
                                 ? "pt_inception-2015-12-05-6726825d.pth from "
                                   "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                                 : "inception_v3_google-0cc3c7bd.pth from https://download.pytorch.org/models/";
  if (weights.empty())
    throw Error("eval.inception_weights is not set: download " + source + " once and give its path (--set "
                "eval.inception_weights=FILE); eval.inception_flavour is " + to_string(flavour));
  if (!fs::exists(weights)) throw Error(weights + ": no such Inception weights file (the " + to_string(flavour) + " flavour is " + source + ")");
  return load_inception(flavour, weights);
}

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

std::string default_moments_path(const config::Config& c) {
  if (!c.eval.inception_moments.empty()) return c.eval.inception_moments;
  std::string name = c.data.dataset;
  const std::string suffix = "_hdf5";
  if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
    name.resize(name.size() - suffix.size());
  return c.derived.data_root + "/" + name + "_inception_moments.h5";
}

std::optional<DatasetMoments> load_reference_moments(const config::Config& c, const std::string& path) {
  if (c.eval.no_fid) return std::nullopt;
  return load_dataset_moments(path.empty() ? default_moments_path(c) : path);
}

SampleOptions sample_options(const config::Config& c, std::uint64_t seed) {
  SampleOptions o;
  o.num_images = c.eval.num_inception_images;
  o.batch_size = c.derived.G_batch_size;
  o.seed = seed;
  o.z_var = c.sample.z_var;
  o.truncation = c.sample.truncation;
  return o;
}

nlohmann::json to_json(const GeneratorMetrics& m) {
  return {{"IS_mean", m.inception_score.mean},
          {"IS_std", m.inception_score.std},
          {"FID", std::isnan(m.FID) ? nlohmann::json() : nlohmann::json(m.FID)},
          {"samples", m.samples}};
}

std::string biggan_pytorch_test_log_line(std::int64_t itr, const GeneratorMetrics& m, double unix_time) {
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%.6f", unix_time);
  return "{\"itr\": " + std::to_string(itr) + ", \"IS_mean\": " + nlohmann::json(m.inception_score.mean).dump() +
         ", \"IS_std\": " + nlohmann::json(m.inception_score.std).dump() +
         ", \"FID\": " + nlohmann::json(std::isnan(m.FID) ? 9999.0 : m.FID).dump() + ", \"_stamp\": " + stamp + "}";
}

DatasetMoments compute_dataset_moments(InceptionV3& net, const std::string& dataset_path, std::int64_t batch_size,
                                       dist::Collectives& collectives, bool show_progress) {
  torch::NoGradGuard no_grad;
  net->eval();
  const auto header = data::inspect_dataset(dataset_path);
  const auto [first, last] = data::Sampler::shard(header.size, collectives.rank(), collectives.world_size());
  io::H5File file(dataset_path, io::H5File::Mode::read);
  MomentAccumulator moments;
  InceptionScoreAccumulator score(header.size, 10);
  std::unique_ptr<log::Progress> progress;
  if (show_progress && collectives.rank() == 0)
    progress = std::make_unique<log::Progress>("moments", last - first, log::parse_progress_style("auto", log::stdout_is_terminal()));
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

GeneratorMetrics evaluate_generator(model::Generator& G, const config::Config& c, InceptionV3& net,
                                    const DatasetMoments* data, const SampleOptions& o, dist::Collectives& collectives) {
  torch::NoGradGuard no_grad;
  net->eval();
  if (data && data->flavour != net->flavour())
    throw Error("the dataset moments were computed with the " + to_string(data->flavour) +
                " Inception, the evaluation uses " + to_string(net->flavour()) + "; recompute one of them");
  // Samples [0, num_images), each keyed by its index: the same set on any number of ranks.
  const std::int64_t total = o.num_images;
  const auto [first, last] = data::Sampler::shard(total, collectives.rank(), collectives.world_size());
  const auto device = G->parameters().front().device();
  MomentAccumulator moments;
  InceptionScoreAccumulator score(total, 10);
  const std::int64_t offset = first;
  for (std::int64_t done = 0; done < last - first; done += o.batch_size) {
    const std::int64_t n = std::min(o.batch_size, last - first - done);
    const auto latents = sample::keyed_latents(sample::LatentPurpose::evaluation, o.seed, first + done, n,
                                               c.derived.dim_z, c.derived.n_classes, o.z_var, o.truncation);
    const auto z = latents.z.to(device);
    const auto y = latents.y.to(device);
    const auto images = G->forward(z, G->shared(y)).clamp(-1, 1);
    const auto out = net->forward(images.to(net->parameters().front().device()));
    moments.add(out.pool);
    score.add(out.logits, offset + done);
  }
  GeneratorMetrics m;
  m.samples = total;
  m.inception_score = score.finalize(collectives);
  const Moments generated = moments.finalize(collectives);
  if (data) m.FID = frechet_distance(generated, data->moments);
  return m;
}

}  // namespace biggan::metrics
