#include "cli/loaded_generator.h"

#include "config/module_options.h"
#include "core/error.h"
#include "distributed/collectives.h"
#include "logging/log.h"
#include "model/state_dict.h"
#include "run/run_folder.h"

namespace biggan::cli {

LoadedGenerator load_generator(const config::Config& config, const std::string& run_dir, const std::string& checkpoint,
                                const std::string& which) {
  if (which != "G" && which != "G_ema" && which != "auto") throw UsageError("--which: G | G_ema | auto, got '" + which + "'");
  LoadedGenerator out;
  ckpt::Contents contents;
  if (!checkpoint.empty()) {
    out.checkpoint = checkpoint;
    contents = ckpt::load(checkpoint);
  } else {
    const auto folder = run::RunFolder::at(run_dir);
    auto loaded = ckpt::load_newest_valid(folder.checkpoints, [](const std::string& w) {
      if (distributed::process_context().is_root()) logging::warn(w);
    });
    if (!loaded) throw Error(run_dir + ": no valid checkpoint");
    out.checkpoint = loaded->path;
    contents = std::move(loaded->contents);
  }
  out.ema = which == "G_ema" || (which == "auto" && config.train.ema && config.train.use_ema);
  if (out.ema && contents.G_ema.empty()) throw Error(out.checkpoint + ": has no G_ema (use --which G)");
  out.G = model::Generator(config::generator_options(config));
  model::load_state_dict(*out.G, out.ema ? contents.G_ema : contents.G, true, out.checkpoint);
  out.G->to(distributed::rank_device(distributed::process_context()));
  out.state = contents.state;
  return out;
}

}  // namespace biggan::cli
