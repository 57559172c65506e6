// `biggan classifier train` and `biggan eval`: the demo's metric (a classifier trained on the
// real data scores class-conditional samples: accuracy and a Fréchet distance of its features).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "cli/loaded_generator.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "logging/log.h"
#include "metrics/classifier.h"
#include "config/module_options.h"
#include "metrics/report.h"
#include "model/state_dict.h"
#include "run/run_folder.h"
#include "sample/standing_stats.h"

namespace biggan::cli {

namespace fs = std::filesystem;

namespace {

// 1e-05, 3.40282e+38: printf's %g.
std::string general(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

}  // namespace

int classifier_command(const Args& args) {
  CommandSpec spec{"classifier", "train --train FILE --test FILE --output FILE [options]",
                   "Train the small CNN classifier behind the demo metric on a prepared dataset (data-parallel).",
                   "Example:\n"
                   "  mpirun -np 2 biggan classifier train --train data/FMNIST32.hdf5 --test data/FMNIST32_test.hdf5 \\\n"
                   "      --output data/FMNIST32_classifier.h5\n"};
  po::options_description o("Classifier");
  o.add_options()("action", po::value<std::string>(), "train")
      ("train", po::value<std::string>(), "training split (prepare-data output)")
      ("test", po::value<std::string>(), "held-out split: the classifier's own accuracy and the real feature moments")
      ("output", po::value<std::string>(), "classifier file to write (.h5)")
      ("epochs", po::value<int>()->default_value(2), "passes over the training split")
      ("batch-size", po::value<int>()->default_value(128), "images per rank and step")
      ("lr", po::value<double>()->default_value(1e-3), "Adam learning rate")
      ("seed", po::value<int>()->default_value(0), "seed");
  po::positional_options_description positional;
  positional.add("action", 1);
  const auto vm = parse_command(spec, o, args, &positional);
  if (!vm) return 0;
  if (!vm->count("action") || (*vm)["action"].as<std::string>() != "train")
    throw UsageError("classifier: the only action is 'train'");
  for (const char* required : {"train", "test", "output"})
    if (!vm->count(required)) throw UsageError(std::string("classifier train: --") + required + " is required");
  auto& ctx = distributed::process_context();
  configure_logging();
  torch::set_num_threads(1);
  distributed::Collectives collectives(ctx, torch::kCPU);
  metrics::ClassifierTraining t;
  t.train_path = (*vm)["train"].as<std::string>();
  t.test_path = (*vm)["test"].as<std::string>();
  t.output = (*vm)["output"].as<std::string>();
  refuse_output_over_inputs("--output", t.output, {{"--train", t.train_path}, {"--test", t.test_path}});
  t.epochs = (*vm)["epochs"].as<int>();
  t.batch_size = (*vm)["batch-size"].as<int>();
  t.lr = (*vm)["lr"].as<double>();
  t.seed = static_cast<std::uint64_t>((*vm)["seed"].as<int>());
  if (t.epochs < 1 || t.batch_size < 1) throw UsageError("classifier train: --epochs and --batch-size must be >= 1");
  // Adam keeps the rate in float32: 0 or a subnormal trains nothing, inf or NaN ruins the
  // weights, and above float32's range LibTorch's message names no option.
  if (!(t.lr >= std::numeric_limits<float>::min() && t.lr <= std::numeric_limits<float>::max()))
    throw UsageError("classifier train --lr: expected a learning rate from " + general(std::numeric_limits<float>::min()) +
                     " to " + general(std::numeric_limits<float>::max()) + " (float32's normal range), got " +
                     general(t.lr));
  const double accuracy = metrics::train_classifier(t, collectives);
  logging::print0("classifier test accuracy " + std::to_string(accuracy) + ", written to " + t.output + "\n");
  return 0;
}

namespace {

// --metric auto: a metric's own file on the command line decides (--classifier, or
// --inception-weights / --moments), else what training picks its best checkpoints by.
std::string chosen_metric(const po::variables_map& vm, const config::Config& config) {
  const std::string metric = vm["metric"].as<std::string>();
  if (metric == "inception" || metric == "classifier") return metric;
  if (metric != "auto") throw UsageError("eval --metric: inception | classifier | auto");
  const bool classifier_given = vm.count("classifier") > 0;
  const bool inception_given = vm.count("inception-weights") > 0 || vm.count("moments") > 0;
  if (classifier_given != inception_given) return classifier_given ? "classifier" : "inception";
  return config.ckpt.which_best == config::BestMetric::classifier ? "classifier" : "inception";
}

// IS and FID of G on eval.num_inception_images samples (or --samples).
nlohmann::json inception_score(model::Generator& G, const config::Config& config, const po::variables_map& vm,
                               distributed::Collectives& collectives) {
  auto net = config::configured_inception(config, vm.count("inception-weights") ? vm["inception-weights"].as<std::string>() : "");
  net->to(distributed::rank_device(distributed::process_context()));
  const auto data = config::reference_moments(config, vm.count("moments") ? vm["moments"].as<std::string>() : "");
  auto so = config::evaluation_options(config, static_cast<std::uint64_t>(vm["seed"].as<int>()));
  if (vm.count("samples")) so.num_images = vm["samples"].as<int>();
  if (so.num_images < 10) throw UsageError("eval --samples must be >= 10 (the Inception Score uses 10 splits)");
  const auto m = metrics::evaluate_generator(G, net, data ? &*data : nullptr, so, collectives);
  nlohmann::json out{{"flavour", metrics::to_string(net->flavour())}};
  out.update(metrics::to_json(m));
  return out;
}

// The demo's metric: the classifier's accuracy on class-balanced samples, and the Frechet
// distance of its features.
nlohmann::json classifier_score(model::Generator& G, const config::Config& config, const po::variables_map& vm,
                                distributed::Collectives& collectives) {
  const auto classifier = metrics::load_classifier(vm.count("classifier") ? vm["classifier"].as<std::string>()
                                                                          : config::classifier_path(config));
  const int samples = vm.count("samples") ? vm["samples"].as<int>() : config.eval.num_classifier_samples;
  if (samples < 2) throw UsageError("eval --samples must be >= 2");
  const auto score = metrics::score_generator(G, classifier, samples, config.train.batch_size,
                                              static_cast<std::uint64_t>(vm["seed"].as<int>()), collectives);
  return {{"accuracy", score.accuracy}, {"frechet", score.frechet}, {"samples", score.samples},
          {"classifier_test_accuracy", classifier.test_accuracy}};
}

// --summary: the score with the run's training state and its sample sheets at that iteration.
nlohmann::json run_summary(const nlohmann::json& score, const std::string& run_dir, const run::RunFolder& folder,
                           const ckpt::TrainingState& trained) {
  nlohmann::json summary = score;
  summary["run"] = run_dir;
  summary["iterations"] = trained.itr;
  summary["images_seen"] = trained.sampler.samples_seen;
  summary["epochs"] = trained.epoch;
  summary["training_seconds"] = trained.seconds_trained;
  summary["ranks"] = trained.world_size;
  summary["global_batch_size"] = trained.global_batch_size;
  // Training's sheets of this iteration, and `biggan sample`'s (its default output folder).
  std::vector<std::string> sheets;
  const std::string by_training = folder.samples + "/" + std::to_string(trained.itr);
  if (fs::is_directory(by_training))
    for (const auto& f : fs::directory_iterator(by_training)) sheets.push_back(f.path().string());
  const std::string by_sample = folder.samples + "/sample_itr" + std::to_string(trained.itr);
  if (fs::is_directory(by_sample))
    for (const auto& f : fs::recursive_directory_iterator(by_sample))
      if (f.is_regular_file() && f.path().extension() == ".png") sheets.push_back(f.path().string());
  std::sort(sheets.begin(), sheets.end());
  summary["sample_sheets"] = sheets;
  return summary;
}

// Batches of exact standing statistics to score with: --standing-stats N, else the run's own
// setting (eval.accumulate_stats), which is how training scored the checkpoint.
int standing_batches(const config::Config& config, const po::variables_map& vm) {
  if (!vm.count("standing-stats")) return config.derived.standing_batches;
  const int n = vm["standing-stats"].as<int>();
  if (n < 0)
    throw UsageError("eval --standing-stats: expected 0 (none) or a number of batches, got " + std::to_string(n));
  return n;
}

}  // namespace

int eval_command(const Args& args) {
  CommandSpec spec{"eval", "--run DIR [--checkpoint DIR | --best] [options]",
                   "Score a generator checkpoint across ranks: IS and FID with Inception v3 (--metric inception), or "
                   "the demo's classifier metric: accuracy on class-conditional samples and the Fréchet distance of "
                   "classifier features (--metric classifier).",
                   "Prints one JSON line: {\"itr\", \"IS_mean\", \"IS_std\", \"FID\", \"samples\", ...} or\n"
                   "{\"itr\", \"accuracy\", \"frechet\", \"samples\", \"classifier_test_accuracy\"}.\n"
                   "The metric defaults to the run's ckpt.which_best (IS, FID: inception).\n"};
  po::options_description o("Evaluation");
  o.add_options()("run", po::value<std::string>(), "run folder (its config.yaml, and its newest valid or --best checkpoint)")
      ("classifier", po::value<std::string>(), "classifier file (default: the config's eval.classifier)")
      ("samples", po::value<int>(), "samples to score (default: eval.num_classifier_samples)")
      ("metric", po::value<std::string>()->default_value("auto"),
       "inception | classifier | auto (the metric whose file is given, else ckpt.which_best's)")
      ("inception-weights", po::value<std::string>(), "Inception v3 .pth (default: eval.inception_weights)")
      ("moments", po::value<std::string>(), "the dataset's Inception moments (.h5 or BigGAN-PyTorch's .npz)")
      ("standing-stats", po::value<int>(),
       "score in eval mode with exact standing statistics over N batches, 0 for none (default: the run's "
       "eval.accumulate_stats and eval.num_standing_accumulations, as training scored it)")
      ("seed", po::value<int>()->default_value(0), "noise seed")
      ("summary", po::value<std::string>(), "also write a JSON summary of the run (training state, metric, samples)");
  add_checkpoint_options(o);
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  if (!vm->count("run")) throw UsageError("eval: --run is required");
  auto& ctx = distributed::process_context();
  configure_logging();
  torch::set_num_threads(1);
  const std::string run_dir = (*vm)["run"].as<std::string>();
  const auto folder = run::RunFolder::at(run_dir);
  if (!fs::exists(folder.config_file)) throw Error(run_dir + ": not a run folder (no config.yaml)");
  config::Config config;
  config::apply_yaml_file(config, folder.config_file);
  config::resolve(config, ctx.world_size());
  configure_logging(config.log.level);
  const std::string metric = chosen_metric(*vm, config);
  const CheckpointChoice choice = checkpoint_choice(*vm);
  auto loaded = load_generator(config, run_dir, choice);
  if (vm->count("summary")) {
    std::vector<NamedPath> inputs = files_in(loaded.checkpoint, "a file of the checkpoint");
    inputs.push_back({"the run's config", folder.config_file});
    for (const char* file : {"classifier", "moments", "inception-weights"})
      if (vm->count(file)) inputs.push_back({std::string("--") + file, (*vm)[file].as<std::string>()});
    refuse_output_over_inputs("eval --summary", (*vm)["summary"].as<std::string>(), inputs);
  }
  model::Generator& G = loaded.G;
  const ckpt::TrainingState& trained = loaded.state;
  const int standing = standing_batches(config, *vm);
  // Training's seed for this iteration's standing statistics, so that the score is training's.
  sample::prepare_for_sampling(G, standing, config.eval.G_eval_mode, config.derived.G_batch_size,
                               sample::standing_seed(config.train.seed, trained.itr));
  distributed::Collectives collectives(ctx, torch::kCPU);
  nlohmann::json out{{"itr", trained.itr},
                     {"checkpoint", loaded.checkpoint},
                     {"chosen_as", !choice.folder.empty() ? "given" : choice.best ? "best" : "newest"},
                     {"generator", loaded.ema ? "G_ema" : "G"},
                     {"standing_stats", standing}};
  out.update(metric == "inception" ? inception_score(G, config, *vm, collectives)
                                   : classifier_score(G, config, *vm, collectives));
  logging::print0(out.dump() + "\n");
  if (vm->count("summary") && ctx.is_root())
    write_file_atomically((*vm)["summary"].as<std::string>(), run_summary(out, run_dir, folder, trained).dump(2) + "\n");
  return 0;
}

}  // namespace biggan::cli
