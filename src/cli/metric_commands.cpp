// `biggan classifier train` and `biggan eval`: the demo's metric (a classifier trained on the
// real data scores class-conditional samples: accuracy and a Fréchet distance of its features).
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "ckpt/checkpoint.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "dist/collectives.h"
#include "dist/context.h"
#include "log/log.h"
#include "metrics/classifier.h"
#include "model/state_dict.h"
#include "run/run_folder.h"

namespace biggan::cli {

namespace fs = std::filesystem;

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
  auto& ctx = dist::process_context();
  log::configure({ctx.rank(), ctx.world_size(), ctx.host(), log::Level::info, ""});
  torch::set_num_threads(1);
  dist::Collectives collectives(ctx, torch::kCPU);
  metrics::ClassifierTraining t;
  t.train_path = (*vm)["train"].as<std::string>();
  t.test_path = (*vm)["test"].as<std::string>();
  t.output = (*vm)["output"].as<std::string>();
  t.epochs = (*vm)["epochs"].as<int>();
  t.batch_size = (*vm)["batch-size"].as<int>();
  t.lr = (*vm)["lr"].as<double>();
  t.seed = static_cast<std::uint64_t>((*vm)["seed"].as<int>());
  if (t.epochs < 1 || t.batch_size < 1) throw UsageError("classifier train: --epochs and --batch-size must be >= 1");
  const double accuracy = metrics::train_classifier(t, collectives);
  log::print0("classifier test accuracy " + std::to_string(accuracy) + ", written to " + t.output + "\n");
  return 0;
}

int eval_command(const Args& args) {
  CommandSpec spec{"eval", "--run DIR [--checkpoint DIR] [options]",
                   "Score a generator checkpoint with the classifier metric: accuracy on class-conditional samples "
                   "and the Fréchet distance of classifier features, computed across ranks.",
                   "Prints one JSON line: {\"itr\", \"accuracy\", \"frechet\", \"samples\", \"classifier_test_accuracy\"}.\n"};
  po::options_description o("Evaluation");
  o.add_options()("run", po::value<std::string>(), "run folder (its config.yaml and newest valid checkpoint)")
      ("checkpoint", po::value<std::string>(), "a checkpoint folder (default: the run's newest valid one)")
      ("classifier", po::value<std::string>(), "classifier file (default: the config's eval.classifier)")
      ("samples", po::value<int>(), "samples to score (default: eval.num_classifier_samples)")
      ("which", po::value<std::string>()->default_value("auto"), "G | G_ema | auto (G_ema when the run uses it)")
      ("seed", po::value<int>()->default_value(0), "noise seed")
      ("summary", po::value<std::string>(), "also write a JSON summary of the run (training state, metric, samples)");
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  if (!vm->count("run")) throw UsageError("eval: --run is required");
  auto& ctx = dist::process_context();
  log::configure({ctx.rank(), ctx.world_size(), ctx.host(), log::Level::info, ""});
  torch::set_num_threads(1);
  const std::string run_dir = (*vm)["run"].as<std::string>();
  const auto folder = run::RunFolder::at(run_dir);
  if (!fs::exists(folder.config_file)) throw Error(run_dir + ": not a run folder (no config.yaml)");
  config::Config config;
  config::apply_yaml_file(config, folder.config_file);
  config::resolve(config, ctx.world_size());
  std::string checkpoint;
  ckpt::Contents contents;
  if (vm->count("checkpoint")) {
    checkpoint = (*vm)["checkpoint"].as<std::string>();
    contents = ckpt::load(checkpoint);
  } else {
    auto loaded = ckpt::load_newest_valid(folder.checkpoints, [&](const std::string& w) {
      if (ctx.is_root()) log::warn(w);
    });
    if (!loaded) throw Error(run_dir + ": no valid checkpoint");
    checkpoint = loaded->path;
    contents = std::move(loaded->contents);
  }
  const std::string which = (*vm)["which"].as<std::string>();
  const bool use_ema = which == "G_ema" || (which == "auto" && config.train.ema && config.train.use_ema);
  if (which != "G" && which != "G_ema" && which != "auto") throw UsageError("eval --which: G | G_ema | auto");
  if (use_ema && contents.G_ema.empty()) throw Error(checkpoint + ": has no G_ema");
  model::Generator G(config);
  model::load_state_dict(*G, use_ema ? contents.G_ema : contents.G, true, checkpoint);
  if (config.eval.G_eval_mode) G->eval(); else G->train();
  const std::string classifier_path = vm->count("classifier") ? (*vm)["classifier"].as<std::string>()
                                      : !config.eval.classifier.empty() ? config.eval.classifier
                                                                        : metrics::default_classifier_path(config);
  const auto classifier = metrics::load_classifier(classifier_path);
  dist::Collectives collectives(ctx, torch::kCPU);
  const int samples = vm->count("samples") ? (*vm)["samples"].as<int>() : config.eval.num_classifier_samples;
  if (samples < 2) throw UsageError("eval --samples must be >= 2");
  const auto score = metrics::score_generator(G, classifier, samples, config.train.batch_size,
                                              static_cast<std::uint64_t>((*vm)["seed"].as<int>()), collectives);
  nlohmann::json out{{"itr", contents.state.itr}, {"checkpoint", checkpoint}, {"generator", use_ema ? "G_ema" : "G"},
                     {"accuracy", score.accuracy}, {"frechet", score.frechet}, {"samples", score.samples},
                     {"classifier_test_accuracy", classifier.test_accuracy}};
  log::print0(out.dump() + "\n");
  if (vm->count("summary") && ctx.is_root()) {
    nlohmann::json summary = out;
    summary["run"] = run_dir;
    summary["iterations"] = contents.state.itr;
    summary["images_seen"] = contents.state.sampler.samples_seen;
    summary["epochs"] = contents.state.epoch;
    summary["training_seconds"] = contents.state.seconds_trained;
    summary["ranks"] = contents.state.world_size;
    summary["global_batch_size"] = contents.state.global_batch_size;
    std::vector<std::string> sheets;
    const std::string sample_dir = folder.samples + "/" + std::to_string(contents.state.itr);
    if (fs::is_directory(sample_dir))
      for (const auto& f : fs::directory_iterator(sample_dir)) sheets.push_back(f.path().string());
    std::sort(sheets.begin(), sheets.end());
    summary["sample_sheets"] = sheets;
    write_file_atomically((*vm)["summary"].as<std::string>(), summary.dump(2) + "\n");
  }
  return 0;
}

}  // namespace biggan::cli
