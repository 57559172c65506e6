// The demo's quality metric without downloaded weights: a small CNN trained on the real
// training set; a generator is scored by (a) how often the classifier recognises the class a
// sample was conditioned on and (b) the Fréchet distance between real and generated features of
// the classifier's penultimate layer.
#pragma once

#include <torch/torch.h>

#include <string>

#include "distributed/collectives.h"
#include "metrics/frechet.h"
#include "model/networks.h"

namespace biggan::metrics {

// conv(3->32)-pool-conv(32->64)-pool-conv(64->128)-pool, fc 256 (features), fc n_classes.
struct ClassifierImpl : torch::nn::Module {
  ClassifierImpl(int n_classes, int resolution);
  torch::Tensor features(const torch::Tensor& x);  // (N, 256), after ReLU
  torch::Tensor forward(const torch::Tensor& x);   // logits
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  int n_classes, resolution;
};
TORCH_MODULE(Classifier);

struct ClassifierFile {
  Classifier net{nullptr};
  Moments real;  // moments of the real test set's features
  double test_accuracy = 0;
};

struct ClassifierTraining {
  std::string train_path, test_path, output;
  int epochs = 2;
  int batch_size = 128;  // per rank
  double lr = 1e-3;
  std::uint64_t seed = 0;
};

// Trains on every rank's shard (gradients averaged), evaluates on the test split, stores the
// weights, the test accuracy and the real feature moments (HDF5). Returns the test accuracy.
double train_classifier(const ClassifierTraining& options, distributed::Collectives& collectives);
ClassifierFile load_classifier(const std::string& path);
void save_classifier(const std::string& path, const ClassifierFile& file);

struct GeneratorScore {
  double accuracy = 0;  // fraction of samples classified as the class they were generated for
  double frechet = 0;
  std::int64_t samples = 0;
};

// `samples` class-balanced samples (class i % n_classes) shared over the ranks; collective.
GeneratorScore score_generator(model::Generator& G, const ClassifierFile& classifier, std::int64_t samples,
                               int batch_size, std::uint64_t seed, distributed::Collectives& collectives);

// Samples whose arg-max class is their label.
std::int64_t count_correct(const torch::Tensor& logits, const torch::Tensor& labels);

}  // namespace biggan::metrics
