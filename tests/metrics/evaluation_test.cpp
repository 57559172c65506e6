// IS/FID end to end with random Inception weights (no download here): `biggan inception-moments`
// on 1 and 2 ranks gives the in-process moments (HDF5 and numpy's .npz), `biggan eval --metric
// inception` scores a real checkpoint, and a moments file of the other flavour is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <utility>

#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "io/h5_tensors.h"
#include "io/npz.h"
#include "metrics/dataset_moments.h"
#include "metrics/evaluation.h"
#include "model/state_dict.h"

namespace biggan::metrics {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The last line of a file that starts a JSON object (the commands print one after their logs).
nlohmann::json last_json_line(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (line.rfind("{", 0) == 0) last = line;
  return nlohmann::json::parse(last);
}

class InceptionMetricsEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char pattern[] = "/tmp/biggan_inception_e2e.XXXXXX";
    dir_ = mkdtemp(pattern);
    torch::manual_seed(3);
    // A random network whose activations neither explode nor vanish: one train-mode pass with
    // momentum 1 sets every BN's running statistics to the batch's.
    net_ = InceptionV3(InceptionFlavour::torchvision);
    for (auto& m : net_->modules(false))
      if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) bn->options.momentum(1.0);
    // A tiny dataset in BigGAN-PyTorch's plain layout: 30 images with some structure.
    const auto labels = torch::arange(30, torch::kInt64) % 10;
    const auto base = torch::rand({30, 3, 1, 1}) * 200;
    const auto imgs = (base + torch::rand({30, 3, 32, 32}) * 55).to(torch::kUInt8);
    fs::create_directories(dir_ + "/data");
    {
      io::H5File f(dir_ + "/data/FMNIST32.hdf5", io::H5File::Mode::create);
      f.write("imgs", imgs);
      f.write("labels", labels);
    }
    net_->train();
    {
      torch::NoGradGuard no_grad;
      net_->forward(imgs.to(torch::kFloat) / 127.5 - 1);
    }
    net_->eval();
    model::save_weights_file(*net_, dir_ + "/inception.pth");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // This test process is an MPI singleton: the launcher must not inherit its OMPI_/PMIX_ state.
  static std::string biggan(const std::string& args) {
    return "cd " + dir_ + " && unset $(env | sed -n 's/^\\(OMPI_[^=]*\\|PMIX_[^=]*\\|OPAL_[^=]*\\)=.*/\\1/p'); " +
           "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " + args;
  }
  static std::string common() {
    return " --config " + std::string(BIGGAN_SOURCE_DIR) + "/tests/configs/tiny_fmnist.yaml --set data.data_root=" +
           dir_ + "/data --set eval.inception_weights=" + dir_ + "/inception.pth --set paths.runs_root=" + dir_ +
           "/runs --set paths.experiment_name=tiny";
  }
  // The tiny dataset's Inception moments where the configs look for them.
  static void compute_dataset_moments_file() {
    const std::string moments = biggan(std::string(BIGGAN_BINARY) + " inception-moments" + common() + " --output " +
                                       dir_ + "/data/FMNIST_inception_moments.h5 > /dev/null 2>&1");
    ASSERT_EQ(std::system(moments.c_str()), 0) << moments;
  }
  static std::string dir_;
  static InceptionV3 net_;
};
std::string InceptionMetricsEndToEnd::dir_;
InceptionV3 InceptionMetricsEndToEnd::net_{nullptr};

TEST_F(InceptionMetricsEndToEnd, MomentsCommandOnOneAndTwoRanksEqualsInProcess) {
  distributed::Collectives alone(distributed::process_context(), torch::kCPU);
  const auto expected = compute_dataset_moments(net_, dir_ + "/data/FMNIST32.hdf5", 7, alone, false);
  ASSERT_EQ(expected.moments.count, 30);
  ASSERT_TRUE(torch::isfinite(expected.moments.sigma).all().item<bool>());
  ASSERT_GT(expected.moments.sigma.diagonal().mean().item<double>(), 1e-8);  // features are not all constant

  const std::string one = biggan(std::string(BIGGAN_BINARY) + " inception-moments" + common() +
                                 " --batch-size 8 --output " + dir_ + "/one.h5");
  ASSERT_EQ(std::system(one.c_str()), 0) << one;
  const std::string two = biggan("mpirun -np 2 --oversubscribe " + std::string(BIGGAN_BINARY) + " inception-moments" +
                                 common() + " --batch-size 8 --output " + dir_ + "/two.h5 > two.log 2>&1");
  ASSERT_EQ(std::system(two.c_str()), 0) << two << "\n" << read_text(dir_ + "/two.log");
  for (const char* file : {"one.h5", "two.h5"}) {
    const auto m = load_dataset_moments(dir_ + "/" + file);
    const double scale = expected.moments.sigma.abs().max().item<double>();
    EXPECT_EQ(m.moments.count, 30) << file;
    EXPECT_LT((m.moments.mu - expected.moments.mu).abs().max().item<double>(), 1e-9 * scale + 1e-12) << file;
    EXPECT_LT((m.moments.sigma - expected.moments.sigma).abs().max().item<double>(), 1e-9 * scale) << file;
    EXPECT_NEAR(m.inception_score.mean, expected.inception_score.mean, 1e-9) << file;
    EXPECT_EQ(m.flavour, InceptionFlavour::torchvision);
  }
  // BigGAN-PyTorch's .npz beside it: mu float32, sigma float64.
  const auto npz = io::read_npz(dir_ + "/one.npz");
  EXPECT_EQ(npz.at("mu").scalar_type(), torch::kFloat32);
  EXPECT_EQ(npz.at("sigma").scalar_type(), torch::kFloat64);
  const auto from_npz = load_dataset_moments(dir_ + "/one.npz");
  EXPECT_NEAR(frechet_distance(from_npz.moments, expected.moments), 0.0, 1e-6);
}

TEST_F(InceptionMetricsEndToEnd, EvalScoresACheckpointWithIsAndFid) {
  // Data moments, then a few iterations of training for a real checkpoint.
  ASSERT_NO_FATAL_FAILURE(compute_dataset_moments_file());
  const std::string train = biggan(std::string(BIGGAN_BINARY) + " train" + common() +
                                   " --set train.total_iterations=2 --set ckpt.save_every=2 > train.log 2>&1");
  ASSERT_EQ(std::system(train.c_str()), 0) << train;
  const std::string eval = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                  "/runs/tiny --metric inception --samples 20 --inception-weights " + dir_ +
                                  "/inception.pth --moments " + dir_ + "/data/FMNIST_inception_moments.h5 > eval.json");
  ASSERT_EQ(std::system(eval.c_str()), 0) << eval;
  const auto j = last_json_line(dir_ + "/eval.json");
  EXPECT_EQ(j.at("itr"), 2);
  EXPECT_EQ(j.at("samples"), 20);
  EXPECT_GE(j.at("IS_mean").get<double>(), 1.0 - 1e-9);
  EXPECT_TRUE(std::isfinite(j.at("FID").get<double>()));
  EXPECT_GT(j.at("FID").get<double>(), 0.0);
  EXPECT_EQ(j.at("flavour"), "torchvision");

  // --summary with the Inception metric too (it used to be written for the classifier's only),
  // and never over one of eval's inputs.
  const std::string summarised = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                        "/runs/tiny --metric inception --samples 20 --inception-weights " + dir_ +
                                        "/inception.pth --summary " + dir_ + "/summary.json > /dev/null");
  ASSERT_EQ(std::system(summarised.c_str()), 0) << summarised;
  const auto summary = nlohmann::json::parse(read_text(dir_ + "/summary.json"));
  EXPECT_EQ(summary.at("iterations"), 2);
  EXPECT_EQ(summary.at("IS_mean"), j.at("IS_mean"));
  const std::string over_state = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                        "/runs/tiny --metric inception --samples 20 --inception-weights " + dir_ +
                                        "/inception.pth --summary " + dir_ +
                                        "/runs/tiny/checkpoints/itr00000002/state.json > over.log 2>&1");
  const int over_code = std::system(over_state.c_str());
  EXPECT_TRUE(WIFEXITED(over_code) && WEXITSTATUS(over_code) == 2) << over_code;
  EXPECT_NE(read_text(dir_ + "/over.log").find("is the same file as a file of the checkpoint"), std::string::npos)
      << read_text(dir_ + "/over.log");
  EXPECT_TRUE(nlohmann::json::parse(read_text(dir_ + "/runs/tiny/checkpoints/itr00000002/state.json")).contains("itr"));

  // Moments of the other flavour are refused by name.
  DatasetMoments other = load_dataset_moments(dir_ + "/data/FMNIST_inception_moments.h5");
  other.flavour = InceptionFlavour::fid;
  save_dataset_moments(other, dir_ + "/fid_flavour.h5", "");
  const std::string mismatch = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                      "/runs/tiny --metric inception --samples 20 --inception-weights " + dir_ +
                                      "/inception.pth --moments " + dir_ + "/fid_flavour.h5 > mismatch.log 2>&1");
  EXPECT_NE(std::system(mismatch.c_str()), 0);
  const std::string text = read_text(dir_ + "/mismatch.log");
  EXPECT_NE(text.find("computed with the fid Inception"), std::string::npos) << text;

  // --metric auto with only a classifier given scores with the classifier, though the run picks
  // its best by IS: the missing file is what stops it, named (with IS it would have succeeded).
  const std::string classifier = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                        "/runs/tiny --samples 20 --classifier " + dir_ +
                                        "/no_classifier.h5 > classifier.log 2>&1");
  const int code = std::system(classifier.c_str());
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 1) << code;
  const std::string said = read_text(dir_ + "/classifier.log");
  EXPECT_NE(said.find("no_classifier.h5"), std::string::npos) << said;
  EXPECT_EQ(said.find("IS_mean"), std::string::npos) << said;
}

TEST_F(InceptionMetricsEndToEnd, TrainingEvaluatesKeepsTheBestAndWritesBigGanPytorchsLog) {
  ASSERT_NO_FATAL_FAILURE(compute_dataset_moments_file());
  const std::string options = common() + " --set paths.experiment_name=evaluated --set train.total_iterations=4"
                              " --set eval.test_every=2 --set eval.num_inception_images=20 --set ckpt.which_best=FID"
                              " --set ckpt.num_best_copies=1 --set eval.G_eval_mode=true";
  const std::string train = biggan(std::string(BIGGAN_BINARY) + " train" + options + " > evaluated.log 2>&1");
  ASSERT_EQ(std::system(train.c_str()), 0) << read_text(dir_ + "/evaluated.log");
  const std::string logs = dir_ + "/runs/evaluated/logs/";
  // Ours: one line per evaluation with IS and FID.
  std::ifstream eval(logs + "eval.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(eval, l);) lines.push_back(nlohmann::json::parse(l));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].at("itr"), 4);
  EXPECT_GE(lines[1].at("IS_mean").get<double>(), 1.0 - 1e-9);
  EXPECT_TRUE(std::isfinite(lines[1].at("FID").get<double>()));
  EXPECT_EQ(lines[0].at("best"), true);  // the first evaluation is always the best so far
  // BigGAN-PyTorch's <experiment>_log.jsonl, byte for byte in its format.
  std::ifstream bp(logs + "evaluated_log.jsonl");
  std::vector<std::string> bp_lines;
  for (std::string l; std::getline(bp, l);) bp_lines.push_back(l);
  ASSERT_EQ(bp_lines.size(), 2u);
  const std::regex format(R"(^\{"itr": 2, "IS_mean": [-0-9.e+]+, "IS_std": [-0-9.e+]+, "FID": [-0-9.e+]+, "_stamp": [0-9]+\.[0-9]+\}$)");
  EXPECT_TRUE(std::regex_match(bp_lines[0], format)) << bp_lines[0];
  // The best ring holds the better evaluation.
  const auto index = nlohmann::json::parse(read_text(dir_ + "/runs/evaluated/checkpoints/index.json"));
  bool has_best = false;
  for (const auto& e : index.at("checkpoints"))
    for (const auto& role : e.at("roles")) has_best = has_best || role.get<std::string>().rfind("best", 0) == 0;
  EXPECT_TRUE(has_best) << index.dump();

  // Without the moments file the run stops at start, naming it.
  const std::string missing = biggan(std::string(BIGGAN_BINARY) + " train" + options +
                                     " --set paths.experiment_name=no_moments --set eval.inception_moments=" + dir_ +
                                     "/nowhere.h5 > no_moments.log 2>&1");
  EXPECT_NE(std::system(missing.c_str()), 0);
  EXPECT_NE(read_text(dir_ + "/no_moments.log").find("nowhere.h5: no Inception moments"), std::string::npos)
      << read_text(dir_ + "/no_moments.log");
}

// eval.test_at evaluates at those iterations besides every test_every; `eval --best` and
// `sample --best` load the newest checkpoint of the best ring, the last evaluation logged best.
TEST_F(InceptionMetricsEndToEnd, TestAtEvaluatesThereAndBestLoadsTheBestCheckpoint) {
  const std::string options = common() + " --set train.total_iterations=5 --set ckpt.save_every=0"
                              " --set eval.test_every=4 --set eval.test_at=[1,3] --set eval.num_inception_images=20"
                              " --set ckpt.which_best=IS --set eval.no_fid=true --set ckpt.num_best_copies=2";
  const std::string train =
      biggan(std::string(BIGGAN_BINARY) + " train" + options + " --set paths.experiment_name=test_at > test_at.log 2>&1");
  ASSERT_EQ(std::system(train.c_str()), 0) << read_text(dir_ + "/test_at.log");
  std::ifstream eval(dir_ + "/runs/test_at/logs/eval.jsonl");
  std::vector<std::int64_t> evaluated;
  std::int64_t last_best = 0;
  for (std::string l; std::getline(eval, l);) {
    const auto line = nlohmann::json::parse(l);
    evaluated.push_back(line.at("itr").get<std::int64_t>());
    if (line.at("best").get<bool>()) last_best = evaluated.back();
  }
  EXPECT_EQ(evaluated, (std::vector<std::int64_t>{1, 3, 4}));
  ASSERT_GT(last_best, 0);

  const std::string run = " --run " + dir_ + "/runs/test_at";
  const std::string best = biggan(std::string(BIGGAN_BINARY) + " eval" + run +
                                  " --best --metric inception --inception-weights " + dir_ + "/inception.pth" +
                                  " --samples 20 > best.log 2>&1");
  ASSERT_EQ(std::system(best.c_str()), 0) << read_text(dir_ + "/best.log");
  const auto scored = last_json_line(dir_ + "/best.log");
  EXPECT_EQ(scored.at("itr").get<std::int64_t>(), last_best) << scored.dump();
  const std::string newest = biggan(std::string(BIGGAN_BINARY) + " eval" + run + " --metric inception --inception-weights " +
                                    dir_ + "/inception.pth --samples 20 > newest.log 2>&1");
  ASSERT_EQ(std::system(newest.c_str()), 0) << read_text(dir_ + "/newest.log");
  EXPECT_EQ(last_json_line(dir_ + "/newest.log").at("itr"), 5);

  const std::string sample = biggan(std::string(BIGGAN_BINARY) + " sample" + run + " --best --output " + dir_ +
                                    "/best_sheets --set sample.sample_sheets=true > best_sample.log 2>&1");
  ASSERT_EQ(std::system(sample.c_str()), 0) << read_text(dir_ + "/best_sample.log");
  EXPECT_EQ(nlohmann::json::parse(read_text(dir_ + "/best_sheets/sample.json")).at("itr").get<std::int64_t>(), last_best);

  // Both ways of choosing at once are refused; a run without a best ring says why there is none.
  const std::string both = biggan(std::string(BIGGAN_BINARY) + " eval" + run + " --best --checkpoint " + dir_ +
                                  "/runs/test_at/checkpoints/itr00000005 > both.log 2>&1");
  const int both_status = std::system(both.c_str());
  EXPECT_TRUE(WIFEXITED(both_status) && WEXITSTATUS(both_status) == 2) << both_status;
  EXPECT_NE(read_text(dir_ + "/both.log").find("--best and --checkpoint both choose the checkpoint"), std::string::npos)
      << read_text(dir_ + "/both.log");
  // test_at alone (test_every 0) evaluates too.
  const std::string no_ring = biggan(std::string(BIGGAN_BINARY) + " train" + options +
                                     " --set train.total_iterations=2 --set eval.test_every=0 --set eval.test_at=2"
                                     " --set ckpt.num_best_copies=0 --set paths.experiment_name=no_ring > no_ring.log 2>&1");
  ASSERT_EQ(std::system(no_ring.c_str()), 0) << read_text(dir_ + "/no_ring.log");
  EXPECT_EQ(nlohmann::json::parse(read_text(dir_ + "/runs/no_ring/logs/eval.jsonl")).at("itr"), 2);
  const std::string none = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                  "/runs/no_ring --best --metric inception --inception-weights " + dir_ +
                                  "/inception.pth > none.log 2>&1");
  const int none_status = std::system(none.c_str());
  EXPECT_TRUE(WIFEXITED(none_status) && WEXITSTATUS(none_status) == 1) << none_status;
  EXPECT_NE(read_text(dir_ + "/none.log").find("runs/no_ring: no valid best checkpoint in"), std::string::npos)
      << read_text(dir_ + "/none.log");
}

// Evaluating during training leaves training as it was: a run scored at every iteration ends
// with the same G, D and G_ema, buffers included, as one never scored. Without the EMA the
// scored network is G itself, whose BN statistics the standing-statistics pass recomputes
// (README "The demo" compares runs scored every 50 and every 250 iterations on this property).
TEST_F(InceptionMetricsEndToEnd, EvaluatingLeavesTrainingAsItWas) {
  ASSERT_NO_FATAL_FAILURE(compute_dataset_moments_file());
  for (const bool ema : {true, false}) {
    SCOPED_TRACE(ema ? "G_ema scored" : "G scored");
    const std::string options = common() + " --set train.total_iterations=4 --set ckpt.save_every=4"
                                " --set eval.num_inception_images=20 --set ckpt.which_best=IS"
                                " --set eval.accumulate_stats=true --set eval.num_standing_accumulations=2"
                                " --set train.ema=" + (ema ? "true" : "false") +
                                " --set train.use_ema=" + (ema ? "true" : "false");
    const std::string suffix = ema ? "_ema" : "_g";
    for (const auto& [name, every] : {std::pair{"scored", "1"}, std::pair{"unscored", "0"}}) {
      const std::string experiment = name + suffix;
      const std::string train = biggan(std::string(BIGGAN_BINARY) + " train" + options + " --set paths.experiment_name=" +
                                       experiment + " --set eval.test_every=" + every + " > " + experiment + ".log 2>&1");
      ASSERT_EQ(std::system(train.c_str()), 0) << read_text(dir_ + "/" + experiment + ".log");
    }
    EXPECT_FALSE(read_text(dir_ + "/runs/scored" + suffix + "/logs/eval.jsonl").empty());
    EXPECT_EQ(read_text(dir_ + "/runs/unscored" + suffix + "/logs/eval.jsonl"), "");
    std::vector<std::string> nets{"G.h5", "D.h5"};
    if (ema) nets.push_back("G_ema.h5");
    for (const auto& net : nets) {
      const auto scored = model::read_weights_file(dir_ + "/runs/scored" + suffix + "/checkpoints/itr00000004/" + net);
      const auto unscored = model::read_weights_file(dir_ + "/runs/unscored" + suffix + "/checkpoints/itr00000004/" + net);
      ASSERT_EQ(scored.size(), unscored.size()) << net;
      std::string differing;
      for (const auto& [key, tensor] : scored) {
        ASSERT_EQ(unscored.count(key), 1u) << net << " " << key;
        if (!torch::equal(tensor, unscored.at(key))) differing += " " + key;
      }
      EXPECT_EQ(differing, "") << net << " differs between the scored and the unscored run";
    }
  }
}

// `biggan eval` scores a checkpoint as training scored it, standing statistics included (the
// same seed for this iteration's pass), and --standing-stats overrides the run's setting. The
// sheets of an iteration that also evaluates reuse the evaluation's statistics: they must equal
// those of a run that does not evaluate and so computes them for the sheets alone.
TEST_F(InceptionMetricsEndToEnd, EvalReproducesTrainingsScoreWithStandingStatistics) {
  ASSERT_NO_FATAL_FAILURE(compute_dataset_moments_file());
  // Sheets at 1 (no evaluation) and 2 (with one): a statistic kept from iteration 1 would
  // change the score at 2.
  const std::string options = common() + " --set train.total_iterations=2 --set ckpt.save_every=1"
                              " --set eval.num_inception_images=20 --set ckpt.which_best=IS"
                              " --set eval.accumulate_stats=true --set eval.num_standing_accumulations=3";
  const std::string train = biggan(std::string(BIGGAN_BINARY) + " train" + options +
                                   " --set paths.experiment_name=standing --set eval.test_every=2 > standing.log 2>&1");
  ASSERT_EQ(std::system(train.c_str()), 0) << read_text(dir_ + "/standing.log");
  const std::string unevaluated = biggan(std::string(BIGGAN_BINARY) + " train" + options +
                                         " --set paths.experiment_name=standing_sheets --set eval.test_every=0"
                                         " > standing_sheets.log 2>&1");
  ASSERT_EQ(std::system(unevaluated.c_str()), 0) << read_text(dir_ + "/standing_sheets.log");
  for (const char* sheet : {"fixed_samples1.png", "fixed_samples2.png", "2/samples0.png", "2/interpZY0.png"}) {
    const std::string evaluated_sheet = read_text(dir_ + "/runs/standing/samples/" + sheet);
    ASSERT_FALSE(evaluated_sheet.empty()) << sheet;
    EXPECT_TRUE(evaluated_sheet == read_text(dir_ + "/runs/standing_sheets/samples/" + sheet)) << sheet;
  }
  const auto trained = last_json_line(dir_ + "/runs/standing/logs/eval.jsonl");
  ASSERT_EQ(trained.at("itr"), 2);
  const auto score = [&](const std::string& extra) {
    const std::string eval = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                    "/runs/standing --metric inception --samples 20 --inception-weights " + dir_ +
                                    "/inception.pth" + extra + " > standing_eval.json 2>&1");
    EXPECT_EQ(std::system(eval.c_str()), 0) << read_text(dir_ + "/standing_eval.json");
    return last_json_line(dir_ + "/standing_eval.json");
  };
  const auto as_trained = score("");
  EXPECT_EQ(as_trained.at("standing_stats"), 3);
  const double is = trained.at("IS_mean").get<double>();
  EXPECT_NEAR(as_trained.at("IS_mean").get<double>(), is, 1e-9 * is) << as_trained.dump();
  const double fid = trained.at("FID").get<double>();
  EXPECT_NEAR(as_trained.at("FID").get<double>(), fid, 1e-9 * fid) << as_trained.dump();
  // Other statistics give another score, so the match above is not a coincidence.
  const auto other = score(" --standing-stats 1");
  EXPECT_EQ(other.at("standing_stats"), 1);
  EXPECT_GT(std::abs(other.at("IS_mean").get<double>() - is), 1e-6 * is) << other.dump();
  const auto none = score(" --standing-stats 0");
  EXPECT_EQ(none.at("standing_stats"), 0);

  const std::string bad = biggan(std::string(BIGGAN_BINARY) + " eval --run " + dir_ +
                                 "/runs/standing --metric inception --standing-stats -2 > bad_standing.log 2>&1");
  const int code = std::system(bad.c_str());
  EXPECT_TRUE(WIFEXITED(code) && WEXITSTATUS(code) == 2) << code;
  const std::string message = read_text(dir_ + "/bad_standing.log");
  EXPECT_NE(message.find("eval --standing-stats: expected 0 (none) or a number of batches, got -2"), std::string::npos)
      << message;
}

TEST_F(InceptionMetricsEndToEnd, SampleWritesEveryArtefactOnTwoRanks) {
  ASSERT_NO_FATAL_FAILURE(compute_dataset_moments_file());
  const std::string train = biggan(std::string(BIGGAN_BINARY) + " train" + common() +
                                   " --set paths.experiment_name=sampled --set train.total_iterations=2"
                                   " --set ckpt.save_every=2 > sampled.log 2>&1");
  ASSERT_EQ(std::system(train.c_str()), 0) << read_text(dir_ + "/sampled.log");
  const std::string out = dir_ + "/sampled_out";
  const std::string sample = biggan(
      "mpirun -np 2 --oversubscribe " + std::string(BIGGAN_BINARY) + " sample --run " + dir_ + "/runs/sampled --output " +
      out + " --set eval.inception_weights=" + dir_ + "/inception.pth --set sample.sample_sheets=true" +
      " --set sample.sample_interps=true --set sample.sample_random=true --set sample.sample_npz=true" +
      " --set sample.sample_num_npz=25 --set sample.sample_inception_metrics=true --set eval.num_inception_images=20" +
      " --set sample.sample_trunc_curves=0.5_0.5_1.0 --set eval.accumulate_stats=true" +
      " --set eval.num_standing_accumulations=2 --set sample.classes_per_sheet=5 > sample.log 2>&1");
  ASSERT_EQ(std::system(sample.c_str()), 0) << read_text(dir_ + "/sample.log");
  for (const char* f : {"-1/samples0.png", "-1/samples1.png", "-1/interpZY0.png", "-1/interpZ0.png", "-1/interpY0.png",
                        "random_samples.png", "samples.npz", "samples.h5", "trunc_curves.json", "trunc_curves.csv",
                        "sample.json"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + "/-1/samples2.png"));  // 10 classes, 5 per sheet
  const auto npz = io::read_npz(out + "/samples.npz");
  EXPECT_EQ(npz.at("x").sizes(), (std::vector<std::int64_t>{25, 3, 32, 32}));
  EXPECT_EQ(npz.at("x").scalar_type(), torch::kUInt8);
  EXPECT_EQ(npz.at("y").scalar_type(), torch::kInt64);
  EXPECT_LT(npz.at("y").max().item<std::int64_t>(), 10);
  const auto curve = nlohmann::json::parse(read_text(out + "/trunc_curves.json"));
  ASSERT_EQ(curve.size(), 2u);
  EXPECT_EQ(curve[1].at("truncation"), 1.0);
  EXPECT_TRUE(std::isfinite(curve[1].at("FID").get<double>()));
  const auto manifest = nlohmann::json::parse(read_text(out + "/sample.json"));
  EXPECT_EQ(manifest.at("itr"), 2);
  EXPECT_EQ(manifest.at("metrics").at("samples"), 20);
  // numpy reads the export (Debian's python3-numpy; skipped without it).
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0) {
    const std::string check = "/usr/bin/python3 -c \"import numpy as np; d = np.load('" + out +
                              "/samples.npz'); assert d['x'].dtype == np.uint8 and d['x'].shape == (25, 3, 32, 32);"
                              " assert d['y'].dtype == np.int64 and d['y'].shape == (25,)\"";
    EXPECT_EQ(std::system(check.c_str()), 0) << check;
  }
}

TEST_F(InceptionMetricsEndToEnd, MissingWeightsSayWhereToGetThem) {
  const std::string command = biggan(std::string(BIGGAN_BINARY) + " inception-moments --config " +
                                     std::string(BIGGAN_SOURCE_DIR) + "/tests/configs/tiny_fmnist.yaml --set data.data_root=" +
                                     dir_ + "/data > missing.log 2>&1");
  EXPECT_NE(std::system(command.c_str()), 0);
  const std::string text = read_text(dir_ + "/missing.log");
  EXPECT_NE(text.find("inception_v3_google-0cc3c7bd.pth"), std::string::npos) << text;
}

}  // namespace
}  // namespace biggan::metrics
