#include "ckpt/interchange.h"

#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <filesystem>

#include "config/module_options.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"
#include "io/pth.h"
#include "model/networks.h"

namespace biggan::ckpt {

namespace fs = std::filesystem;

namespace {

model::StateDict read_state_dict(const std::string& path) {
  model::StateDict out;
  for (auto& [key, t] : io::read_pth_state_dict(path)) out[key] = t.contiguous().clone();
  return out;
}

c10::IValue adam_ivalue(const model::StateDict& state, std::size_t parameters, double lr, double b1, double b2,
                        double eps) {
  c10::impl::GenericDict per_param(c10::IntType::get(), c10::AnyType::get());
  for (std::size_t i = 0; i < parameters; ++i) {
    const std::string prefix = std::to_string(i) + ".";
    if (!state.count(prefix + "step")) continue;
    c10::impl::GenericDict fields(c10::StringType::get(), c10::AnyType::get());
    fields.insert("step", state.at(prefix + "step").to(torch::kFloat32));
    fields.insert("exp_avg", state.at(prefix + "exp_avg"));
    fields.insert("exp_avg_sq", state.at(prefix + "exp_avg_sq"));
    per_param.insert(static_cast<std::int64_t>(i), fields);
  }
  c10::impl::GenericDict group(c10::StringType::get(), c10::AnyType::get());
  group.insert("lr", lr);
  group.insert("betas", c10::ivalue::Tuple::create({b1, b2}));
  group.insert("eps", eps);
  group.insert("weight_decay", 0.0);
  group.insert("amsgrad", false);
  group.insert("maximize", false);
  group.insert("foreach", c10::IValue());
  group.insert("capturable", false);
  std::vector<std::int64_t> ids(parameters);
  for (std::size_t i = 0; i < parameters; ++i) ids[i] = static_cast<std::int64_t>(i);
  group.insert("params", ids);
  c10::impl::GenericList groups(c10::AnyType::get());
  groups.push_back(group);
  c10::impl::GenericDict root(c10::StringType::get(), c10::AnyType::get());
  root.insert("state", per_param);
  root.insert("param_groups", groups);
  return root;
}

void write_ivalue(const std::string& path, const c10::IValue& value) {
  const auto bytes = torch::pickle_save(value);
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

std::vector<std::pair<std::string, torch::Tensor>> in_module_order(const torch::nn::Module& net,
                                                                   const model::StateDict& values) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& [key, unused] : model::ordered_state_dict(net)) out.emplace_back(key, values.at(key));
  return out;
}

}  // namespace

// torch.optim.Adam's state_dict -> our "<i>.step/exp_avg/exp_avg_sq".
model::StateDict read_biggan_pytorch_adam(const std::string& path) {
  const io::PyRef root = io::read_pth(path);
  model::StateDict out;
  for (const auto& [key, value] : root->entries) {
    if (key->text != "state") continue;
    for (const auto& [index, fields] : value->entries) {
      if (index->kind != io::PyValue::Kind::integer)
        throw Error(path + ": optimizer state keyed by " + index->describe() + ", expected parameter indices");
      const std::string prefix = std::to_string(index->integer) + ".";
      for (const auto& [name, v] : fields->entries) {
        if (name->text == "step")
          out[prefix + "step"] = torch::tensor(v->kind == io::PyValue::Kind::tensor ? v->tensor.item<double>()
                                                                                   : static_cast<double>(v->integer),
                                               torch::kFloat64)
                                     .to(torch::kInt64);
        else if (name->text == "exp_avg" || name->text == "exp_avg_sq") {
          if (v->kind != io::PyValue::Kind::tensor)
            throw Error(path + ": optimizer state " + prefix + name->text + " is " + v->describe() + ", expected a tensor");
          out[prefix + name->text] = v->tensor.contiguous().clone();
        }
      }
    }
  }
  return out;
}

Contents import_biggan_pytorch(const std::string& dir, const config::Config& config) {
  Contents c;
  model::Generator G(config::generator_options(config));
  model::Discriminator D(config::discriminator_options(config));
  model::load_state_dict(*G, c.G = read_state_dict(dir + "/G.pth"), true, dir + "/G.pth");
  model::load_state_dict(*D, c.D = read_state_dict(dir + "/D.pth"), true, dir + "/D.pth");
  if (config.train.ema) {
    c.G_ema = fs::exists(dir + "/G_ema.pth") ? read_state_dict(dir + "/G_ema.pth") : c.G;
    model::load_state_dict(*G, c.G_ema, true, dir + "/G_ema.pth");
  }
  for (const auto& [file, target, net] : {std::tuple{"/G_optim.pth", &c.G_optim, static_cast<torch::nn::Module*>(G.get())},
                                          std::tuple{"/D_optim.pth", &c.D_optim, static_cast<torch::nn::Module*>(D.get())}}) {
    if (!fs::exists(dir + file)) continue;
    *target = read_biggan_pytorch_adam(dir + file);
    const auto params = net->parameters();
    for (const auto& [key, t] : *target) {
      const auto index = std::stoul(key.substr(0, key.find('.')));
      if (index >= params.size() || (key.find("exp_avg") != std::string::npos && t.sizes() != params[index].sizes()))
        throw Error(dir + file + ": optimizer state '" + key + "' does not fit this model (check the config)");
    }
  }
  auto& s = c.state;
  if (fs::exists(dir + "/state_dict.pth")) {
    const io::PyRef root = io::read_pth(dir + "/state_dict.pth");
    for (const auto& [key, value] : root->entries) {
      const auto number = [&]() -> double {
        if (value->kind == io::PyValue::Kind::integer) return static_cast<double>(value->integer);
        if (value->kind == io::PyValue::Kind::floating) return value->floating;
        if (value->kind == io::PyValue::Kind::tensor) return value->tensor.item<double>();
        if (value->kind == io::PyValue::Kind::object && !value->items.empty() &&  // numpy scalars
            value->items.back()->kind == io::PyValue::Kind::bytes && value->items.back()->text.size() == 8) {
          double d = 0;
          std::memcpy(&d, value->items.back()->text.data(), 8);
          return d;
        }
        return 0;
      };
      if (key->text == "itr") s.itr = static_cast<std::int64_t>(number());
      else if (key->text == "epoch") s.epoch = static_cast<std::int64_t>(number());
      else if (key->text == "save_num") s.save_num = static_cast<int>(number());
      else if (key->text == "save_best_num") s.save_best_num = static_cast<int>(number());
      else if (key->text == "best_IS") s.best_IS = number();
      else if (key->text == "best_FID") s.best_FID = number();
    }
  }
  // BigGAN-PyTorch stores no data position: start a fresh epoch at the imported iteration.
  s.sampler.epoch = s.epoch + 1;
  s.sampler.samples_seen = s.itr * config.derived.images_per_iteration;
  s.world_size = 0;  // unknown: the first run re-seeds every rank's noise
  s.num_D_accumulations = config.derived.num_D_accumulations;
  s.num_G_accumulations = config.derived.num_G_accumulations;
  s.global_batch_size = config.derived.global_batch_size;
  s.config_yaml = config::to_yaml(config, false);
  s.code_version = git_hash() + " (imported from " + fs::absolute(dir).string() + ")";
  c.rng = torch::zeros({1, 1}, torch::kUInt8);
  return c;
}

void export_biggan_pytorch(const Contents& c, const config::Config& config, const std::string& out_dir) {
  fs::create_directories(out_dir);
  model::Generator G(config::generator_options(config));
  model::Discriminator D(config::discriminator_options(config));
  io::write_pth_state_dict(out_dir + "/G.pth", in_module_order(*G, c.G));
  io::write_pth_state_dict(out_dir + "/D.pth", in_module_order(*D, c.D));
  if (!c.G_ema.empty()) io::write_pth_state_dict(out_dir + "/G_ema.pth", in_module_order(*G, c.G_ema));
  const auto& o = config.optim;
  write_ivalue(out_dir + "/G_optim.pth", adam_ivalue(c.G_optim, G->parameters().size(), o.G_lr, o.G_B1, o.G_B2, o.adam_eps));
  write_ivalue(out_dir + "/D_optim.pth", adam_ivalue(c.D_optim, D->parameters().size(), o.D_lr, o.D_B1, o.D_B2, o.adam_eps));
  c10::impl::GenericDict state(c10::StringType::get(), c10::AnyType::get());
  state.insert("itr", c.state.itr);
  state.insert("epoch", c.state.epoch);
  state.insert("save_num", static_cast<std::int64_t>(c.state.save_num));
  state.insert("save_best_num", static_cast<std::int64_t>(c.state.save_best_num));
  state.insert("best_IS", c.state.best_IS);
  state.insert("best_FID", c.state.best_FID);
  // Our resolved config as YAML text: load_weights copies it into its state_dict, and
  // BigGAN-PyTorch's training reads its own command line instead.
  state.insert("config", c.state.config_yaml);
  write_ivalue(out_dir + "/state_dict.pth", state);
}

}  // namespace biggan::ckpt
