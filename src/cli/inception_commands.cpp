// `biggan inception-moments`: the dataset's Inception pool3 moments for FID, over all ranks.
#include <filesystem>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "logging/log.h"
#include "config/module_options.h"
#include "metrics/dataset_moments.h"

namespace biggan::cli {

int inception_moments_command(const Args& args) {
  CommandSpec spec{"inception-moments", "[--config FILE] [options]",
                   "Compute the dataset's Inception pool3 mean and covariance (for FID) and its Inception Score, "
                   "distributed over ranks: each rank reads its shard of the HDF5 file.",
                   "Writes HDF5 (mu, sigma, count, IS, flavour) and, beside it, BigGAN-PyTorch's .npz (mu, sigma).\n"
                   "Example:\n"
                   "  mpirun -np 2 biggan inception-moments --config configs/cifar10_ema.yaml \\\n"
                   "      --set eval.inception_weights=inception_v3_google-0cc3c7bd.pth\n"};
  po::options_description o = config_options();
  po::options_description own("Moments");
  own.add_options()("output", po::value<std::string>(),
                    "output .h5 (default: eval.inception_moments, else <data_root>/<dataset>_inception_moments.h5)")
      ("weights", po::value<std::string>(), "Inception v3 state_dict (.pth; default: eval.inception_weights)")
      ("no-npz", "do not write BigGAN-PyTorch's .npz beside the .h5")
      ("batch-size", po::value<int>()->default_value(50), "images per rank and forward pass");
  o.add(own);
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  auto& ctx = distributed::process_context();
  configure_logging();
  const config::Config config = load_config(*vm, ctx.world_size());
  configure_logging(config.log.level);
  torch::set_num_threads(config.dist.intra_op_threads);
  const int batch = (*vm)["batch-size"].as<int>();
  if (batch < 1) throw UsageError("inception-moments: --batch-size must be >= 1");
  const std::string weights = vm->count("weights") ? (*vm)["weights"].as<std::string>() : config.eval.inception_weights;
  const std::string output = vm->count("output") ? (*vm)["output"].as<std::string>() : config::inception_moments_path(config);
  std::string npz;
  if (!vm->count("no-npz")) npz = std::filesystem::path(output).replace_extension(".npz").string();
  const std::vector<NamedPath> inputs{{"the dataset", config.derived.dataset_path}, {"the Inception weights", weights}};
  refuse_output_over_inputs(vm->count("output") ? "--output" : "the moments file", output, inputs);
  if (!npz.empty()) refuse_output_over_inputs("the .npz beside it,", npz, inputs);
  auto net = config::configured_inception(config, weights);
  net->to(distributed::rank_device(ctx));
  distributed::Collectives collectives(ctx, torch::kCPU);
  const auto moments = metrics::compute_dataset_moments(net, config.derived.dataset_path, batch, collectives, true);
  if (ctx.is_root()) {
    metrics::save_dataset_moments(moments, output, npz);
    logging::info("Inception moments of " + std::to_string(moments.moments.count) + " images (" +
              metrics::to_string(moments.flavour) + " flavour), data IS " + std::to_string(moments.inception_score.mean) +
              " +/- " + std::to_string(moments.inception_score.std) + ": " + output + (npz.empty() ? "" : " and " + npz));
  }
  ctx.barrier();
  return 0;
}

}  // namespace biggan::cli
