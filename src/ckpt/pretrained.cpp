#include "ckpt/pretrained.h"

#include <filesystem>
#include <sstream>

#include "ckpt/checkpoint.h"
#include "ckpt/interchange.h"
#include "config/biggan_pytorch_flags.h"
#include "config/choices.h"
#include "core/error.h"
#include "io/pth.h"
#include "logging/log.h"

namespace biggan::ckpt {

namespace fs = std::filesystem;

namespace {

// The architecture a BigGAN-PyTorch folder was trained with: our own export's YAML, else the
// original's flags dict, both in state_dict.pth.
void read_biggan_pytorch_config(Pretrained& p) {
  const std::string file = p.path + "/state_dict.pth";
  if (!fs::exists(file)) return;
  try {
    config::Config c;
    const std::string yaml = io::read_exported_config_yaml(file);
    if (!yaml.empty()) {
      config::apply_yaml_text(c, yaml, file);
    } else {
      for (const auto& o : config::overrides_from_biggan_pytorch(io::read_biggan_pytorch_config(file)))
        config::apply_override(c, o);
    }
    config::resolve(c, 1);
    p.config = c;
    p.config_source = file;
  } catch (const Error& e) {
    logging::warn(file + ": its config cannot be read (" + e.what() + "); the architecture is checked by tensor shapes only");
  }
}

Pretrained read_biggan_pytorch_folder(const std::string& dir) {
  Pretrained p;
  p.kind = Pretrained::Kind::biggan_pytorch;
  p.path = dir;
  p.G = model::read_weights_file(dir + "/G.pth");
  if (!fs::exists(dir + "/D.pth")) throw Error(dir + ": has G.pth but no D.pth; fine-tuning needs both networks");
  p.D = model::read_weights_file(dir + "/D.pth");
  if (fs::exists(dir + "/G_ema.pth")) p.G_ema = model::read_weights_file(dir + "/G_ema.pth");
  if (fs::exists(dir + "/G_optim.pth")) p.G_optim = read_biggan_pytorch_adam(dir + "/G_optim.pth");
  if (fs::exists(dir + "/D_optim.pth")) p.D_optim = read_biggan_pytorch_adam(dir + "/D_optim.pth");
  read_biggan_pytorch_config(p);
  return p;
}

Pretrained from_contents(const std::string& dir, Contents c) {
  Pretrained p;
  p.kind = Pretrained::Kind::checkpoint;
  p.path = dir;
  p.G = std::move(c.G);
  p.D = std::move(c.D);
  p.G_ema = std::move(c.G_ema);
  p.G_optim = std::move(c.G_optim);
  p.D_optim = std::move(c.D_optim);
  p.itr = c.state.itr;
  config::Config config;
  config::apply_yaml_text(config, c.state.config_yaml, dir + "/state.json (config)");
  config::resolve(config, 1);
  p.config = config;
  p.config_source = dir + "/state.json";
  return p;
}

}  // namespace

std::string resolve_pretrained(const std::string& path) {
  if (!fs::is_directory(path))
    throw Error("finetune.init_from " + path + ": no such folder (give a BigGAN-PyTorch weights folder, a checkpoint "
                "folder or a run folder)");
  if (fs::exists(path + "/G.pth") || fs::exists(path + "/state.json")) return path;
  if (fs::is_directory(path + "/checkpoints")) {
    // Read only: SOURCE is somebody's run, so damaged checkpoints are skipped, not set aside.
    for (const auto& dir : list(path + "/checkpoints")) {
      const auto problems = verify(dir);
      if (problems.empty()) return dir;
      logging::warn(dir + ": damaged (" + problems.front() + "); trying the next older checkpoint");
    }
    throw Error("finetune.init_from " + path + ": the run has no valid checkpoint in checkpoints/");
  }
  throw Error("finetune.init_from " + path + ": not a BigGAN-PyTorch weights folder (no G.pth), a checkpoint (no "
              "state.json) or a run folder (no checkpoints/)");
}

Pretrained read_pretrained(const std::string& path) {
  const std::string folder = resolve_pretrained(path);
  if (fs::exists(folder + "/G.pth")) return read_biggan_pytorch_folder(folder);
  return from_contents(folder, load(folder));
}

std::string describe(const Pretrained& p) {
  std::ostringstream out;
  const auto rows = [&](const model::StateDict& d) -> std::string {
    if (d.empty()) return "no";
    return "yes (" + std::to_string(d.size()) + " tensors)";
  };
  out << "source           " << p.path << "\n"
      << "format           " << (p.kind == Pretrained::Kind::biggan_pytorch ? "BigGAN-PyTorch weights folder" : "biggan checkpoint")
      << "\n";
  if (p.kind == Pretrained::Kind::checkpoint) out << "iteration        " << p.itr << "\n";
  if (p.config) {
    const auto& c = *p.config;
    const auto& m = c.model;
    out << "config from      " << p.config_source << "\n"
        << "dataset          " << c.data.dataset << "\n"
        << "resolution       " << c.derived.resolution << "\n"
        << "classes          " << c.derived.n_classes << "\n"
        << "model            " << config::choice_name(m.model) << " G_ch " << m.G_ch << ", D_ch " << m.D_ch << ", G_depth "
        << m.G_depth << ", D_depth " << m.D_depth << "\n"
        << "latent           dim_z " << c.derived.dim_z << ", shared_dim " << c.derived.shared_dim << ", G_shared "
        << (m.G_shared ? "true" : "false") << ", hier " << (m.hier ? "true" : "false") << "\n"
        << "attention        G " << m.G_attn << ", D " << m.D_attn << "\n"
        << "norm             " << config::choice_name(m.norm_style) << (m.cross_replica ? " (cross_replica)" : "")
        << (m.mybn ? " (mybn)" : "") << "\n";
  } else {
    out << "config           none found (no readable state_dict.pth): the new run's model config must match\n";
  }
  out << "G_ema            " << rows(p.G_ema) << "\n"
      << "G optimizer      " << rows(p.G_optim) << "\n"
      << "D optimizer      " << rows(p.D_optim) << "\n";
  return out.str();
}

}  // namespace biggan::ckpt
