// Inception v3 in both flavours: parameter counts equal torchvision's, random-weight activations
// equal torchvision's (reference made at test time with Debian's python3-torchvision, skipped
// when it is absent), wrong weights are refused; the Inception Score's invariants.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "io/h5_tensors.h"
#include "metrics/inception.h"
#include "metrics/inception_score.h"
#include "model/networks.h"

namespace biggan::metrics {
namespace {

namespace fs = std::filesystem;

std::int64_t parameters(torch::nn::Module& net) {
  std::int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  return n;
}

TEST(Inception, ParameterCountsEqualTorchvision) {
  InceptionV3 torchvision(InceptionFlavour::torchvision);
  EXPECT_EQ(parameters(*torchvision), 27161264);  // torchvision inception_v3, aux_logits=True
  InceptionV3 fid(InceptionFlavour::fid);
  EXPECT_EQ(parameters(*fid), 23850960);  // 1008 classes, no AuxLogits (pytorch-fid)
  EXPECT_EQ(fid->num_classes(), 1008);
}

// Made once per test binary run: ~10 s of Python.
class InceptionReference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/biggan_inception.XXXXXX";
    dir_ = mkdtemp(pattern);
    const std::string command = "/usr/bin/python3 " + std::string(BIGGAN_SOURCE_DIR) +
                                "/tests/metrics/inception_reference.py " + dir_ + " >" + dir_ + "/log.txt 2>&1";
    available_ = std::system(command.c_str()) == 0;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  void SetUp() override {
    if (!available_) GTEST_SKIP() << "Debian's python3-torchvision is not installed; no reference activations";
  }
  static std::string dir_;
  static bool available_;
};
std::string InceptionReference::dir_;
bool InceptionReference::available_ = false;

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.to(torch::kFloat64) - b.to(torch::kFloat64)).norm() / b.to(torch::kFloat64).norm()).item<double>();
}

TEST_F(InceptionReference, ActivationsEqualTorchvisionInBothFlavours) {
  io::H5File ref(dir_ + "/reference.h5", io::H5File::Mode::read);
  const auto x = ref.read("x");
  for (const auto flavour : {InceptionFlavour::torchvision, InceptionFlavour::fid}) {
    const std::string name = to_string(flavour);
    auto net = load_inception(flavour, dir_ + "/" + name + ".pth");
    torch::NoGradGuard no_grad;
    const auto out = net->forward(x);
    EXPECT_LT(relative_error(out.pool, ref.read(name + "/pool")), 1e-5) << name;
    EXPECT_LT(relative_error(out.logits, ref.read(name + "/logits")), 1e-5) << name;
    EXPECT_EQ(out.pool.sizes(), (std::vector<std::int64_t>{3, 2048}));
  }
}

TEST_F(InceptionReference, TheOtherFlavoursWeightsAreRefusedByName) {
  try {
    load_inception(InceptionFlavour::fid, dir_ + "/torchvision.pth");
    FAIL() << "loaded";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("not the fid Inception v3 weights"), std::string::npos) << what;
    EXPECT_NE(what.find("AuxLogits"), std::string::npos) << what;
  }
}

TEST(InceptionScore, UniformPredictionsScoreOne) {
  const auto s = inception_score(torch::zeros({100, 1000}), 10);
  EXPECT_NEAR(s.mean, 1.0, 1e-12);
  EXPECT_NEAR(s.std, 0.0, 1e-12);
}

TEST(InceptionScore, BalancedOneHotPredictionsScoreTheClassCount) {
  const auto labels = torch::arange(200, torch::kInt64) % 20;
  const auto logits = torch::one_hot(labels, 20).to(torch::kFloat64) * 1000.0;
  const auto s = inception_score(logits, 10);  // every chunk of 20 holds each class once
  EXPECT_NEAR(s.mean, 20.0, 1e-9);
  EXPECT_NEAR(s.std, 0.0, 1e-9);
  EXPECT_THROW(inception_score(logits.narrow(0, 0, 5), 10), Error);
}

TEST(InceptionScore, ContiguousSplitsAsBigGanPytorch) {
  // Chunk 1 sees one class (score 1), chunk 2 two balanced classes (score 2): mean 1.5, std 0.5.
  auto logits = torch::zeros({4, 2}, torch::kFloat64);
  logits.index_put_({0, 0}, 1000.0);
  logits.index_put_({1, 0}, 1000.0);
  logits.index_put_({2, 0}, 1000.0);
  logits.index_put_({3, 1}, 1000.0);
  const auto s = inception_score(logits, 2);
  EXPECT_NEAR(s.mean, 1.5, 1e-9);
  EXPECT_NEAR(s.std, 0.5, 1e-9);
}

}  // namespace
}  // namespace biggan::metrics
