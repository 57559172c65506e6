// `biggan generate`: G(z, shared(y)) for latents read from HDF5, written as float32 HDF5. This is
// how a user checks a converted BigGAN-PyTorch model against the original, and how the parity
// of our G is checked from the outside.
#include <filesystem>

#include "cli/commands.h"
#include "cli/options.h"
#include "config/biggan_pytorch_flags.h"
#include "config/module_options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "io/h5_tensors.h"
#include "io/pth.h"
#include "logging/log.h"
#include "model/networks.h"
#include "model/state_dict.h"
#include "sample/standing_stats.h"

namespace biggan::cli {

namespace {

std::vector<std::string> imported_overrides(const po::variables_map& vm) {
  if (!vm.count("biggan-pytorch-state")) return {};
  const std::string path = vm["biggan-pytorch-state"].as<std::string>();
  std::vector<std::string> skipped;
  auto overrides = config::overrides_from_biggan_pytorch(io::read_biggan_pytorch_config(path), &skipped);
  logging::info("config taken from " + path + " (" + std::to_string(overrides.size()) + " settings)");
  return overrides;
}


}  // namespace

int generate_command(const Args& args) {
  CommandSpec spec{
      "generate", "--weights FILE --input FILE --output FILE [--config FILE | --biggan-pytorch-state FILE]",
      "Run G(z, shared(y)) on latents read from HDF5 and write the images as float32 HDF5.",
      "The model is built from --config/--set, or from the config stored in a BigGAN-PyTorch\n"
      "state_dict.pth (--biggan-pytorch-state), so a converted model needs no hand-written config.\n"
      "Images are in [-1, 1], dataset `x` (N x 3 x R x R); z and y are copied beside it.\n"
      "In train mode batch statistics depend on --batch-size, as in the original.\n"
      "Example:\n"
      "  biggan generate --biggan-pytorch-state weights/state_dict.pth --weights weights/G_ema.pth \\\n"
      "                  --input latents.h5 --output images.h5 --standing-stats 16\n"};
  po::options_description o = config_options();
  po::options_description own("Generation");
  own.add_options()
      ("weights", po::value<std::string>(), "G weights: .pth (BigGAN-PyTorch G.pth/G_ema.pth, zip or legacy) or .h5")
      ("biggan-pytorch-state", po::value<std::string>(), "take the model config from this BigGAN-PyTorch state_dict.pth")
      ("input", po::value<std::string>(), "HDF5 file with datasets z (N, dim_z) float32 and y (N,) int64")
      ("output", po::value<std::string>(), "HDF5 file to write (dataset x, N x 3 x H x W float32)")
      ("mode", po::value<std::string>()->default_value("eval"), "eval | train (batch statistics)")
      ("standing-stats", po::value<int>()->default_value(0),
       "first recompute exact standing statistics over N batches of random z, y (eval mode)")
      ("batch-size", po::value<int>()->default_value(64), "images per forward pass")
      ("seed", po::value<int>()->default_value(0), "seed for the standing-statistics noise")
      ("non-strict", "accept weights without sv* buffers (TFHub-converted G files)");
  o.add(own);
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  for (const char* required : {"weights", "input", "output"})
    if (!vm->count(required)) throw UsageError(std::string("generate: --") + required + " is required");
  std::vector<NamedPath> inputs{{"--input", (*vm)["input"].as<std::string>()},
                                 {"--weights", (*vm)["weights"].as<std::string>()}};
  if (vm->count("biggan-pytorch-state"))
    inputs.push_back({"--biggan-pytorch-state", (*vm)["biggan-pytorch-state"].as<std::string>()});
  refuse_output_over_inputs("--output", (*vm)["output"].as<std::string>(), inputs);
  const std::string mode = (*vm)["mode"].as<std::string>();
  if (mode != "eval" && mode != "train") throw UsageError("--mode must be eval or train, got '" + mode + "'");
  const int standing = (*vm)["standing-stats"].as<int>();
  const int batch_size = (*vm)["batch-size"].as<int>();
  if (standing < 0) throw UsageError("--standing-stats must be >= 0");
  if (batch_size < 1) throw UsageError("--batch-size must be >= 1");
  if (standing > 0 && mode == "train")
    throw UsageError("--standing-stats applies to eval mode; train mode uses batch statistics");

  if (!vm->count("config") && !vm->count("biggan-pytorch-state"))
    throw UsageError("generate: give --config FILE (a run's config.yaml) or --biggan-pytorch-state FILE (its "
                     "state_dict.pth): the G that --weights belongs to cannot be guessed");
  configure_logging();
  const config::Config config = load_config(*vm, 1, imported_overrides(*vm));
  configure_logging(config.log.level);
  const auto& d = config.derived;

  const std::string input = (*vm)["input"].as<std::string>();
  torch::Tensor z, y;
  {
    io::H5File in(input, io::H5File::Mode::read);
    for (const char* name : {"z", "y"})
      if (!in.exists(name)) throw Error(input + ": dataset '" + name + "' is missing");
    z = in.read("z").to(torch::kFloat32);
    y = in.read("y");
  }
  // Labels stored as floats are taken when they are whole numbers; 2.7 would silently become 2.
  if (y.is_floating_point()) {
    const auto fractional = (y != y.round()).nonzero();
    if (fractional.numel() > 0) {
      const auto row = fractional[0][0].item<std::int64_t>();
      throw Error(input + ":y holds labels that are not whole numbers (the first at row " + std::to_string(row) +
                  ": " + std::to_string(y[row].item<double>()) + ")");
    }
  }
  y = y.to(torch::kInt64);
  if (z.dim() != 2 || z.size(1) != d.dim_z)
    throw Error(input + ":z has shape " + c10::str(z.sizes()) + ", this G needs (N, " + std::to_string(d.dim_z) + ")");
  if (y.dim() != 1 || y.size(0) != z.size(0))
    throw Error(input + ":y has shape " + c10::str(y.sizes()) + ", expected (" + std::to_string(z.size(0)) + ",)");
  const auto outside = ((y < 0) | (y >= d.n_classes)).nonzero();
  if (outside.numel() > 0) {
    const auto row = outside[0][0].item<std::int64_t>();
    throw Error(input + ":y holds labels outside [0, " + std::to_string(d.n_classes) + ") (the first at row " +
                std::to_string(row) + ": " + std::to_string(y[row].item<std::int64_t>()) + ")");
  }
  if (z.size(0) == 0) throw Error(input + ":z holds no latents (0 rows): nothing to generate");
  const auto bad = (~torch::isfinite(z)).any(1).nonzero();
  if (bad.numel() > 0)
    throw Error(input + ":z holds NaN or infinite values in " + std::to_string(bad.size(0)) + " of " +
                std::to_string(z.size(0)) + " rows (the first is row " + std::to_string(bad[0][0].item<std::int64_t>()) + ")");

  model::Generator G(config::generator_options(config));
  const std::string weights = (*vm)["weights"].as<std::string>();
  const auto report = model::load_weights_file(*G, weights, !vm->count("non-strict"));
  logging::info("Number of params in G: " + std::to_string(model::parameter_count(*G)));
  if (!report.missing.empty())
    logging::warn(weights + ": " + std::to_string(report.missing.size()) + " sv* buffers missing (non-strict load)");
  const torch::Device device = distributed::rank_device(distributed::process_context());
  G->to(device);

  if (standing > 0)
    sample::accumulate_standing_stats(G, standing, batch_size, static_cast<std::uint64_t>((*vm)["seed"].as<int>()));
  if (mode == "eval") G->eval(); else G->train();

  std::vector<torch::Tensor> images;
  {
    torch::NoGradGuard no_grad;
    for (std::int64_t start = 0; start < z.size(0); start += batch_size) {
      const auto n = std::min<std::int64_t>(batch_size, z.size(0) - start);
      const auto zb = z.narrow(0, start, n).to(device);
      const auto yb = y.narrow(0, start, n).to(device);
      images.push_back(G->forward(zb, G->shared(yb)).to(torch::kCPU));
    }
  }
  const torch::Tensor x = images.empty() ? torch::empty({0, 3, d.resolution, d.resolution}) : torch::cat(images);

  const std::string output = (*vm)["output"].as<std::string>();
  io::write_h5_atomically(output, [&](io::H5File& out) {
    out.write("x", x);
    out.write("z", z);
    out.write("y", y);
  });
  logging::info("wrote " + std::to_string(x.size(0)) + " images (" + mode + " mode) to " + output);
  return 0;
}

}  // namespace biggan::cli
