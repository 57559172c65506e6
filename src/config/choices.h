// The names of every enum-valued config key, listed once. The config parser turns a name into
// its enum when it reads a file or --set (an unknown name is an error there, with the file and
// line); the printer writes the name back; everything downstream switches on the enum. Command
// options with the same values (prepare-data --progress) parse through here too.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "distributed/backend.h"
#include "logging/log.h"
#include "logging/progress.h"
#include "metrics/inception_flavour.h"
#include "model/options.h"

namespace biggan::config {

// The trainer's own choices (no module below it reads them).
enum class TrainFunction { GAN };
enum class BestMetric { IS, FID, classifier };  // what "best" checkpoints are chosen by
enum class StopSignal { USR1, USR2, TERM, INT, HUP, URG };  // what Slurm sends before the time limit
// How a fine-tuning run starts its class-indexed tensors (automatic: copy when the counts agree).
enum class ClassInit { automatic, copy, map, mean, random };
// DiffAugment's transforms (train.diffaug lists them in the order they apply).
enum class Augmentation { color, translation, cutout };
// How the learning rates move over a run (BigGAN-PyTorch keeps them constant).
enum class LrSchedule { constant, linear_decay };

// ChoiceNames<E>::entries: every accepted name with its value. The first name of a value is the
// one printed (a value may have several names only where BigGAN-PyTorch has aliases).
template <class E>
struct ChoiceNames;

#define BIGGAN_CHOICES(E, ...)                                          \
  template <>                                                           \
  struct ChoiceNames<E> {                                               \
    static constexpr std::pair<const char*, E> entries[] = {__VA_ARGS__}; \
  }

BIGGAN_CHOICES(model::Architecture, {"BigGAN", model::Architecture::BigGAN}, {"BigGANdeep", model::Architecture::BigGANdeep});
BIGGAN_CHOICES(model::Parameterization, {"SN", model::Parameterization::SN}, {"none", model::Parameterization::none});
BIGGAN_CHOICES(model::Activation, {"relu", model::Activation::relu}, {"inplace_relu", model::Activation::inplace_relu},
               {"ir", model::Activation::ir});
BIGGAN_CHOICES(model::NormStyle, {"bn", model::NormStyle::bn}, {"in", model::NormStyle::in}, {"gn", model::NormStyle::gn},
               {"nonorm", model::NormStyle::nonorm});
BIGGAN_CHOICES(model::WeightInit, {"ortho", model::WeightInit::ortho}, {"N02", model::WeightInit::N02},
               {"glorot", model::WeightInit::glorot}, {"xavier", model::WeightInit::xavier});
BIGGAN_CHOICES(model::MemoryLayout, {"auto", model::MemoryLayout::automatic}, {"true", model::MemoryLayout::nhwc},
               {"false", model::MemoryLayout::nchw});
BIGGAN_CHOICES(model::Precision, {"fp32", model::Precision::fp32}, {"bf16", model::Precision::bf16});
BIGGAN_CHOICES(TrainFunction, {"GAN", TrainFunction::GAN});
BIGGAN_CHOICES(BestMetric, {"IS", BestMetric::IS}, {"FID", BestMetric::FID}, {"classifier", BestMetric::classifier});
BIGGAN_CHOICES(distributed::Backend, {"auto", distributed::Backend::automatic}, {"mpi", distributed::Backend::mpi},
               {"nccl", distributed::Backend::nccl});
BIGGAN_CHOICES(StopSignal, {"USR1", StopSignal::USR1}, {"USR2", StopSignal::USR2}, {"TERM", StopSignal::TERM},
               {"INT", StopSignal::INT}, {"HUP", StopSignal::HUP}, {"URG", StopSignal::URG});
BIGGAN_CHOICES(ClassInit, {"auto", ClassInit::automatic}, {"copy", ClassInit::copy}, {"map", ClassInit::map},
               {"mean", ClassInit::mean}, {"random", ClassInit::random});
BIGGAN_CHOICES(LrSchedule, {"constant", LrSchedule::constant}, {"linear_decay", LrSchedule::linear_decay});
BIGGAN_CHOICES(Augmentation, {"color", Augmentation::color}, {"translation", Augmentation::translation},
               {"cutout", Augmentation::cutout});
BIGGAN_CHOICES(metrics::InceptionFlavour, {"torchvision", metrics::InceptionFlavour::torchvision},
               {"fid", metrics::InceptionFlavour::fid});
BIGGAN_CHOICES(logging::ProgressStyle, {"auto", logging::ProgressStyle::automatic}, {"bar", logging::ProgressStyle::bar},
               {"lines", logging::ProgressStyle::lines}, {"none", logging::ProgressStyle::none});
BIGGAN_CHOICES(logging::Level, {"debug", logging::Level::debug}, {"info", logging::Level::info},
               {"warn", logging::Level::warn}, {"error", logging::Level::error});

#undef BIGGAN_CHOICES

template <class E>
std::optional<E> find_choice(const std::string& name) {
  for (const auto& [n, value] : ChoiceNames<E>::entries)
    if (name == n) return value;
  return std::nullopt;
}

template <class E>
const char* choice_name(E value) {
  for (const auto& [n, v] : ChoiceNames<E>::entries)
    if (v == value) return n;
  return "?";
}

template <class E>
std::vector<std::string> choice_names() {
  std::vector<std::string> names;
  for (const auto& entry : ChoiceNames<E>::entries) names.emplace_back(entry.first);
  return names;
}

// "unknown value 'x' (did you mean 'y'?); expected one of: a, b, c"
std::string unknown_choice_message(const std::string& name, const std::vector<std::string>& allowed);

[[noreturn]] void throw_unknown_choice(const std::string& option, const std::string& name,
                                       const std::vector<std::string>& allowed);

// For command-line options: the value named `name`, or UsageError naming `option`.
template <class E>
E parse_choice(const std::string& name, const std::string& option) {
  if (const auto value = find_choice<E>(name)) return *value;
  throw_unknown_choice(option, name, choice_names<E>());
}

}  // namespace biggan::config
