// `biggan prepare-data`: Fashion-MNIST, CIFAR or an ImageFolder tree into the HDF5 layout,
// on one or many MPI ranks.
#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "data/dataset_file.h"
#include "data/prepare.h"
#include "distributed/context.h"
#include "logging/log.h"

namespace biggan::cli {

namespace {

// "7,8,9" -> {7, 8, 9}.
std::vector<int> parse_class_list(const std::string& text) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
      throw UsageError("prepare-data --classes: expected class indices separated by commas (e.g. 7,8,9), got '" + text + "'");
    if (item.size() > 9)  // would overflow an int; no dataset has a billion classes
      throw UsageError("prepare-data --classes: class index " + item + " is too large");
    out.push_back(std::stoi(item));
    start = comma + 1;
  }
  return out;
}

}  // namespace

int prepare_data_command(const Args& args) {
  CommandSpec spec{
      "prepare-data", "--source KIND --input PATH --output FILE [options]",
      "Convert a dataset to the BigGAN HDF5 layout (imgs uint8 N x 3 x R x R, labels int64), in parallel.",
      "Sources:\n"
      "  fmnist       idx files (gzipped or not); default input /usr/share/datasets/fashion-mnist\n"
      "               (Debian package dataset-fashion-mnist); 28 px padded to 32\n"
      "  cifar10      the binary version: data_batch_1..5.bin, test_batch.bin\n"
      "  cifar100     the binary version: train.bin, test.bin (fine labels)\n"
      "  imagefolder  one sub-folder per class; jpg/jpeg/png/ppm/bmp/pgm in any case, in the order of\n"
      "               BigGAN-PyTorch's ImageFolder; decoded and resized as PIL does (centre crop of the\n"
      "               long edge, antialiased bilinear), so every stored pixel equals PIL's; unreadable\n"
      "               or damaged files are reported and skipped\n"
      "The order is shuffled with --seed (recorded in the file, with each image's original index)\n"
      "so that the contiguous shards of the ranks are representative; --no-shuffle keeps the\n"
      "source order (class-major, like BigGAN-PyTorch's make_hdf5.py).\n"
      "With --config and no --output, the file goes where the config's data.dataset expects it.\n"
      "Examples:\n"
      "  biggan prepare-data --source fmnist --output data/FMNIST32.hdf5 --split all\n"
      "  mpirun -np 8 biggan prepare-data --source imagefolder --input ImageNet/train --resolution 128 \\\n"
      "      --output data/ILSVRC128.hdf5\n"};
  po::options_description o = config_options();
  po::options_description own("Preparation");
  own.add_options()("source", po::value<std::string>(), "fmnist | cifar10 | cifar100 | imagefolder")
      ("input", po::value<std::string>(), "input folder (idx files, CIFAR binaries or class sub-folders)")
      ("output", po::value<std::string>(), "HDF5 file to write")
      ("resolution", po::value<int>()->default_value(0), "image side in pixels (default: 32 for fmnist/cifar)")
      ("split", po::value<std::string>()->default_value("train"), "train | test | all (fmnist, cifar)")
      ("chunk-size", po::value<int>()->default_value(500), "HDF5 chunk length along N (BigGAN-PyTorch uses 500)")
      ("no-shuffle", "keep the source order (default: shuffle with a recorded seed)")
      ("seed", po::value<std::int64_t>()->default_value(0), "shuffle seed")
      ("classes", po::value<std::string>(), "keep only these source classes, e.g. 7,8,9 (relabelled 0..k-1 in this "
                                            "order; the source labels are kept as original_labels)")
      ("per-class", po::value<std::int64_t>()->default_value(0), "keep N items of every class (seeded by --seed); 0: all")
      ("compression", po::value<std::string>()->default_value("none"),
       "none | gzip | lzf (BigGAN-PyTorch's make_hdf5.py --compression writes lzf)")
      ("biggan-pytorch-bytes", "store what BigGAN-PyTorch's make_hdf5.py stores (its float round trip truncates "
                               "63 of the 256 values to one less) instead of PIL's exact values")
      ("progress", po::value<std::string>()->default_value("auto"), "bar | lines | none | auto");
  o.add(own);
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  if (!vm->count("source")) throw UsageError("prepare-data: --source is required");

  auto& ctx = distributed::process_context();
  configure_logging();
  data::PrepareOptions options;
  options.source = (*vm)["source"].as<std::string>();
  if (vm->count("input")) options.input = (*vm)["input"].as<std::string>();
  else if (options.source == "fmnist") options.input = "/usr/share/datasets/fashion-mnist";
  else throw UsageError("prepare-data: --input is required for --source " + options.source);
  if (vm->count("output")) {
    options.output = (*vm)["output"].as<std::string>();
  } else if (vm->count("config")) {
    options.output = load_config(*vm, ctx.world_size()).derived.dataset_path;
  } else {
    throw UsageError("prepare-data: --output is required (or --config, to write where that config reads)");
  }
  options.resolution = (*vm)["resolution"].as<int>();
  options.split = (*vm)["split"].as<std::string>();
  options.chunk_size = (*vm)["chunk-size"].as<int>();
  options.shuffle = !vm->count("no-shuffle");
  options.seed = (*vm)["seed"].as<std::int64_t>();
  if (vm->count("classes")) options.classes = parse_class_list((*vm)["classes"].as<std::string>());
  options.per_class = (*vm)["per-class"].as<std::int64_t>();
  if (options.per_class < 0) throw UsageError("prepare-data --per-class must be >= 0");
  options.compression = data::parse_compression((*vm)["compression"].as<std::string>());
  options.biggan_pytorch_bytes = vm->count("biggan-pytorch-bytes") > 0;
  options.progress = config::parse_choice<logging::ProgressStyle>((*vm)["progress"].as<std::string>(), "prepare-data --progress");
  const auto report = data::prepare_dataset(options, ctx.comm());
  logging::print0("wrote " + std::to_string(report.images) + " images to " + options.output + " in " +
              std::to_string(static_cast<int>(report.seconds)) + " s on " + std::to_string(ctx.world_size()) +
              " rank(s)" + (report.skipped ? " (" + std::to_string(report.skipped) + " unreadable skipped)" : "") + "\n");
  // Images of one's own, or a subset of classes, are no dataset of the table: say what trains on it.
  const bool own_dataset = options.source == "imagefolder" || !options.classes.empty() || options.per_class > 0;
  if (own_dataset && !vm->count("config") && ctx.is_root()) {
    const auto written = data::inspect_dataset(options.output);
    const bool plain = options.output.find_first_not_of(
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-") == std::string::npos;
    const std::string path = plain || options.output.find('\'') != std::string::npos ? options.output
                                                                                    : "'" + options.output + "'";
    logging::print0("train on it with: --set data.dataset=custom --set data.path=" + path +
                    " --set data.resolution=" + std::to_string(written.resolution) +
                    " --set data.n_classes=" + std::to_string(written.n_classes) + "\n");
  }
  return 0;
}

}  // namespace biggan::cli
