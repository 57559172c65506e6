#include "metrics/classifier.h"

#include <filesystem>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/loader.h"
#include "data/index_order.h"
#include "io/h5_tensors.h"
#include "logging/log.h"
#include "sample/noise.h"
#include "model/state_dict.h"

namespace biggan::metrics {

namespace F = torch::nn::functional;

ClassifierImpl::ClassifierImpl(int classes, int res) : n_classes(classes), resolution(res) {
  conv1 = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 32, 3).padding(1)));
  conv2 = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(32, 64, 3).padding(1)));
  conv3 = register_module("conv3", torch::nn::Conv2d(torch::nn::Conv2dOptions(64, 128, 3).padding(1)));
  const int side = res / 8;
  fc1 = register_module("fc1", torch::nn::Linear(128 * side * side, 256));
  fc2 = register_module("fc2", torch::nn::Linear(256, classes));
}

torch::Tensor ClassifierImpl::features(const torch::Tensor& x) {
  auto h = F::max_pool2d(torch::relu(conv1(x)), F::MaxPool2dFuncOptions(2));
  h = F::max_pool2d(torch::relu(conv2(h)), F::MaxPool2dFuncOptions(2));
  h = F::max_pool2d(torch::relu(conv3(h)), F::MaxPool2dFuncOptions(2));
  return torch::relu(fc1(h.flatten(1)));
}

torch::Tensor ClassifierImpl::forward(const torch::Tensor& x) { return fc2(features(x)); }

namespace {

// Accuracy and feature moments of real images held by this rank (its shard of the file).
std::pair<double, Moments> evaluate_real(Classifier& net, const std::string& path, distributed::Collectives& collectives) {
  torch::NoGradGuard no_grad;
  net->eval();
  io::H5File file(path, io::H5File::Mode::read);
  const auto imgs = file.read("imgs");
  const auto labels = file.read("labels").to(torch::kInt64);
  const auto [first, last] = data::IndexOrder::shard(imgs.size(0), collectives.rank(), collectives.world_size());
  std::int64_t correct = 0;
  MomentAccumulator moments;
  for (std::int64_t i = first; i < last; i += 500) {
    const auto n = std::min<std::int64_t>(500, last - i);
    const auto x = data::normalize_images(imgs.narrow(0, i, n));
    const auto f = net->features(x);
    correct += count_correct(net->fc2(f), labels.narrow(0, i, n));
    moments.add(f);
  }
  torch::Tensor totals = torch::tensor({correct, imgs.size(0)}, torch::kInt64);
  collectives.allreduce_(totals);
  totals[1] = imgs.size(0);
  return {static_cast<double>(totals[0].item<std::int64_t>()) / static_cast<double>(imgs.size(0)),
          moments.finalize(collectives)};
}

}  // namespace

double train_classifier(const ClassifierTraining& o, distributed::Collectives& collectives) {
  const auto header = data::inspect_dataset(o.train_path);
  const int classes = header.n_classes > 0 ? header.n_classes
                                           : static_cast<int>(torch::tensor(data::read_labels(o.train_path)).max().item<std::int64_t>() + 1);
  torch::manual_seed(static_cast<std::int64_t>(o.seed));
  Classifier net(classes, header.resolution);
  distributed::broadcast_state(*net, collectives);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.lr));
  data::LoaderOptions lo;
  lo.path = o.train_path;
  lo.batch_per_rank = o.batch_size;
  lo.batch_per_rank_terms = "classifier train --batch-size";
  lo.load_in_mem = true;
  lo.seed = o.seed;
  lo.resolution = header.resolution;
  lo.n_classes = classes;
  data::Loader loader(lo, collectives.context().comm());
  const std::int64_t steps = o.epochs * loader.batches_per_epoch();
  std::vector<torch::Tensor> params = net->parameters();
  net->train();
  for (std::int64_t step = 0; step < steps; ++step) {
    const auto batch = loader.next();
    optimizer.zero_grad();
    const auto loss = F::cross_entropy(net->forward(batch.x), batch.y);
    loss.backward();
    std::vector<torch::Tensor> grads;
    for (auto& p : params) grads.push_back(p.mutable_grad());
    distributed::average_across_ranks(grads, collectives);
    optimizer.step();
    if (collectives.rank() == 0 && (step + 1) % 100 == 0)
      logging::info("classifier step " + std::to_string(step + 1) + "/" + std::to_string(steps) + " loss " +
                std::to_string(loss.item<double>()));
  }
  ClassifierFile file;
  file.net = net;
  auto [accuracy, real] = evaluate_real(net, o.test_path, collectives);
  file.test_accuracy = accuracy;
  file.real = real;
  if (collectives.rank() == 0) save_classifier(o.output, file);
  collectives.context().barrier();
  return accuracy;
}

void save_classifier(const std::string& path, const ClassifierFile& c) {
  io::write_h5_atomically(path, [&](io::H5File& out) {
    for (const auto& [key, t] : model::state_dict(*c.net)) out.write("net/" + key, t);
    out.write("real_mu", c.real.mu);
    out.write("real_sigma", c.real.sigma);
    out.write("real_count", torch::tensor(c.real.count, torch::kInt64));
    out.write("test_accuracy", torch::tensor(c.test_accuracy, torch::kFloat64));
    out.write("n_classes", torch::tensor(static_cast<std::int64_t>(c.net->n_classes), torch::kInt64));
    out.write("resolution", torch::tensor(static_cast<std::int64_t>(c.net->resolution), torch::kInt64));
  });
}

ClassifierFile load_classifier(const std::string& path) {
  if (!std::filesystem::exists(path))
    throw Error(path + ": classifier not found (train one with `biggan classifier train`)");
  io::H5File in(path, io::H5File::Mode::read);
  for (const char* key : {"real_mu", "real_sigma", "n_classes", "resolution", "test_accuracy"})
    if (!in.exists(key)) throw Error(path + ": not a classifier file ('" + key + "' is missing)");
  ClassifierFile c;
  c.net = Classifier(static_cast<int>(in.read("n_classes").item<std::int64_t>()),
                     static_cast<int>(in.read("resolution").item<std::int64_t>()));
  model::load_state_dict(*c.net, in.read_group("net"), true, path);
  c.net->eval();
  c.real.mu = in.read("real_mu");
  c.real.sigma = in.read("real_sigma");
  c.real.count = in.exists("real_count") ? in.read("real_count").item<std::int64_t>() : 0;
  c.test_accuracy = in.read("test_accuracy").item<double>();
  return c;
}

GeneratorScore score_generator(model::Generator& G, const ClassifierFile& c, std::int64_t samples, int batch_size,
                               std::uint64_t seed, distributed::Collectives& collectives) {
  torch::NoGradGuard no_grad;
  const auto device = G->parameters().front().device();
  const int classes = c.net->n_classes;
  const auto [first, last] = data::IndexOrder::shard(samples, collectives.rank(), collectives.world_size());
  const auto dim_z = G->dim_z;
  Classifier net = c.net;  // a handle to the same module; forward is not const
  std::int64_t correct = 0;
  MomentAccumulator moments;
  for (std::int64_t i = first; i < last; i += batch_size) {
    const auto n = std::min<std::int64_t>(batch_size, last - i);
    // Balanced classes by index, latents keyed by index: the same samples on any number of ranks.
    const auto y = torch::arange(i, i + n, torch::kInt64) % classes;
    const auto z = sample::keyed_latents(sample::LatentPurpose::classifier_metric, seed, i, n, dim_z, classes).z;
    const auto x = G->forward(z.to(device), G->shared(y.to(device))).to(torch::kCPU, torch::kFloat32).clamp(-1, 1);
    const auto f = net->features(x);
    correct += count_correct(net->fc2(f), y);
    moments.add(f);
  }
  torch::Tensor total = torch::tensor({correct}, torch::kInt64);
  collectives.allreduce_(total);
  GeneratorScore score;
  score.samples = samples;
  score.accuracy = static_cast<double>(total.item<std::int64_t>()) / static_cast<double>(samples);
  score.frechet = frechet_distance(moments.finalize(collectives), c.real);
  return score;
}

std::int64_t count_correct(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (logits.dim() != 2 || labels.dim() != 1 || logits.size(0) != labels.size(0))
    throw Error("count_correct: expected logits (N, C) and labels (N,)");
  return (logits.argmax(1) == labels.to(logits.device())).sum().item<std::int64_t>();
}

}  // namespace biggan::metrics
