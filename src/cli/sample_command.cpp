// `biggan sample`: BigGAN-PyTorch's sample.py across ranks: class sheets, interpolations, a
// random sheet, samples as .npz and HDF5, IS/FID, and truncation curves written to files.
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/loaded_generator.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "distributed/context.h"
#include "logging/log.h"
#include "config/module_options.h"
#include "metrics/report.h"
#include "run/run_folder.h"
#include "sample/export.h"
#include "sample/sheets.h"
#include "sample/standing_stats.h"

namespace biggan::cli {

namespace {
namespace fs = std::filesystem;
}  // namespace

int sample_command(const Args& args) {
  CommandSpec spec{"sample", "--run DIR [options]",
                   "Sample from a trained generator (BigGAN-PyTorch's sample.py), across ranks: class sheets, "
                   "interpolations, a random sheet, npz/HDF5 export, IS/FID and truncation curves.",
                   "What to produce is chosen by the sample.* keys (BigGAN-PyTorch's flag names), e.g.\n"
                   "  biggan sample --run runs/EXP --set sample.sample_sheets=true --set sample.sample_npz=true\n"
                   "  mpirun -np 2 biggan sample --run runs/EXP --set sample.sample_trunc_curves=0.25_0.25_2.0 \\\n"
                   "      --set eval.inception_weights=inception_v3_google-0cc3c7bd.pth\n"
                   "Latents: sample.z_var is the std of z (as in the original); sample.truncation > 0 draws a\n"
                   "truncated normal instead. --curve-kind picks what the truncation curve varies.\n"
                   "The run's config.yaml loads first; --config and --set apply on top.\n"};
  po::options_description o = config_options();
  po::options_description own("Sampling");
  own.add_options()("run", po::value<std::string>(), "run folder to sample from")
      ("output", po::value<std::string>(), "output folder (default: <run>/samples/sample_itr<N>)")
      ("curve-kind", po::value<std::string>()->default_value("truncation"),
       "truncation curves over: truncation (the true truncation trick) | z_var (BigGAN-PyTorch's std scaling)")
      ("seed", po::value<int>()->default_value(0), "noise seed");
  add_checkpoint_options(own);
  o.add(own);
  const auto vm = parse_command(spec, o, args);
  if (!vm) return 0;
  if (!vm->count("run")) throw UsageError("sample: --run is required");
  auto& ctx = distributed::process_context();
  configure_logging();
  const std::string run_dir = (*vm)["run"].as<std::string>();
  const auto folder = run::RunFolder::at(run_dir);
  if (!fs::exists(folder.config_file)) throw Error(run_dir + ": not a run folder (no config.yaml)");
  const config::Config config = load_config(*vm, ctx.world_size(), {}, {folder.config_file});
  configure_logging(config.log.level);
  const auto& s = config.sample;
  const std::string curve_kind = (*vm)["curve-kind"].as<std::string>();
  if (curve_kind != "truncation" && curve_kind != "z_var") throw UsageError("sample --curve-kind: truncation | z_var");
  const std::vector<double>& curve = config.derived.truncation_curve;
  if (!s.sample_sheets && !s.sample_interps && !s.sample_random && !s.sample_npz && !s.sample_inception_metrics &&
      curve.empty())
    throw UsageError("sample: nothing to do; choose outputs with --set sample.sample_sheets=true, sample_interps, "
                     "sample_random, sample_npz, sample_inception_metrics or sample_trunc_curves=start_step_end");
  torch::set_num_threads(config.dist.intra_op_threads);
  auto loaded = load_generator(config, run_dir, checkpoint_choice(*vm));
  model::Generator& G = loaded.G;
  const std::uint64_t seed = static_cast<std::uint64_t>((*vm)["seed"].as<int>());
  const auto& d = config.derived;
  // Eval mode, with exact standing statistics when configured (spec §7.4 step 6).
  const auto prepare = [&](double z_var, double truncation) {
    sample::prepare_for_sampling(G, d.standing_batches, config.eval.G_eval_mode, d.G_batch_size, seed, z_var,
                                 truncation);
  };
  prepare(s.z_var, s.truncation);
  const std::string out = vm->count("output") ? (*vm)["output"].as<std::string>()
                                              : folder.samples + "/sample_itr" + std::to_string(loaded.state.itr);
  if (ctx.is_root()) fs::create_directories(out);
  distributed::Collectives collectives(ctx, torch::kCPU);
  nlohmann::json manifest{{"run", run_dir}, {"checkpoint", loaded.checkpoint}, {"itr", loaded.state.itr},
                          {"generator", loaded.ema ? "G_ema" : "G"}, {"z_var", s.z_var}, {"truncation", s.truncation},
                          {"standing_stats", d.standing_batches}};

  sample::SheetSettings sheets;
  sheets.classes_per_sheet = s.classes_per_sheet > 0 ? s.classes_per_sheet : d.classes_per_sheet;
  sheets.samples_per_class = s.samples_per_class;
  sheets.interp_rows = s.interp_rows;
  sheets.interp_midpoints = s.interp_midpoints;
  sheets.batch_size = d.G_batch_size;
  sheets.seed = seed;
  sheets.z_var = s.z_var;
  sheets.truncation = s.truncation;
  if ((s.sample_sheets || s.sample_interps) && ctx.is_root()) {
    sheets.class_sheets = s.sample_sheets;
    sheets.interpolations = s.sample_interps;
    const std::string sheet_dir = out + "/" + std::to_string(s.sample_sheet_folder_num);
    for (const auto& f : sample::write_sheets(G, sheet_dir, sheets)) manifest["sheets"].push_back(f);
    if (s.sample_interps && !config.model.G_shared)
      logging::warn("sample_interps: interpolations need the shared embedding (model.G_shared); none written");
  }
  if (s.sample_random && ctx.is_root()) {
    const std::string path = out + "/random_samples.png";
    sample::write_random_sheet(G, path, d.G_batch_size, sheets);
    manifest["random_sheet"] = path;
  }
  if (s.sample_npz) {
    sample::ExportOptions e;
    e.count = s.sample_num_npz;
    e.batch_size = d.G_batch_size;
    e.seed = seed;
    e.z_var = s.z_var;
    e.truncation = s.truncation;
    e.progress = true;
    manifest["npz"] = sample::export_samples(G, out, e, collectives);
    manifest["h5"] = out + "/samples.h5";
  }

  // IS/FID once, and along the truncation curve.
  if (s.sample_inception_metrics || !curve.empty()) {
    auto net = config::configured_inception(config);
    net->to(distributed::rank_device(distributed::process_context()));
    const auto data = config::reference_moments(config);
    auto so = config::evaluation_options(config, seed);
    const auto score = [&](double z_var, double truncation) {
      so.z_var = z_var;
      so.truncation = truncation;
      auto row = metrics::to_json(metrics::evaluate_generator(G, net, data ? &*data : nullptr, so, collectives));
      row.update({{"z_var", z_var}, {"truncation", truncation}});
      return row;
    };
    if (s.sample_inception_metrics) {
      manifest["metrics"] = score(s.z_var, s.truncation);
      logging::info("itr " + std::to_string(loaded.state.itr) + ": " + manifest["metrics"].dump());
    }
    if (!curve.empty()) {
      nlohmann::json rows = nlohmann::json::array();
      std::string csv = "kind,value,z_var,truncation,IS_mean,IS_std,FID,samples\n";
      for (const double v : curve) {
        const double z_var = curve_kind == "z_var" ? v : s.z_var;
        const double truncation = curve_kind == "truncation" ? v : s.truncation;
        prepare(z_var, truncation);  // standing statistics per truncation value
        auto row = score(z_var, truncation);
        row["kind"] = curve_kind;
        row["value"] = v;
        rows.push_back(row);
        char line[256];
        std::snprintf(line, sizeof line, "%s,%.9g,%.9g,%.9g,%.17g,%.17g,%s,%lld\n", curve_kind.c_str(), v, z_var,
                      truncation, row["IS_mean"].get<double>(), row["IS_std"].get<double>(),
                      row["FID"].is_null() ? "" : std::to_string(row["FID"].get<double>()).c_str(),
                      static_cast<long long>(row["samples"].get<std::int64_t>()));
        csv += line;
        logging::info(curve_kind + " " + std::to_string(v) + ": " + row.dump());
      }
      if (ctx.is_root()) {
        write_file_atomically(out + "/trunc_curves.json", rows.dump(2) + "\n");
        write_file_atomically(out + "/trunc_curves.csv", csv);
      }
      manifest["trunc_curves"] = {out + "/trunc_curves.json", out + "/trunc_curves.csv"};
    }
  }
  if (ctx.is_root()) {
    write_file_atomically(out + "/sample.json", manifest.dump(2) + "\n");
    logging::info("samples of " + loaded.checkpoint + " written to " + out);
  }
  ctx.barrier();
  return 0;
}

}  // namespace biggan::cli
