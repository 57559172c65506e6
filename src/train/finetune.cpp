#include "train/finetune.h"

#include <sstream>

#include "ckpt/checkpoint.h"
#include "config/choices.h"
#include "core/error.h"
#include "logging/log.h"
#include "model/networks.h"
#include "model/state_dict.h"

namespace biggan::train {

namespace {

template <class T>
std::string text_of(const T& value) {
  std::ostringstream out;
  if constexpr (std::is_enum_v<T>) out << config::choice_name(value);
  else if constexpr (std::is_same_v<T, bool>) out << (value ? "true" : "false");
  else if constexpr (std::is_same_v<T, std::vector<int>>) {
    for (std::size_t i = 0; i < value.size(); ++i) out << (i ? "_" : "") << value[i];
    if (value.empty()) out << "0";
  } else out << value;
  return out.str();
}

template <class T>
void compare(std::vector<std::string>& out, const char* key, const T& source, const T& run) {
  if (!(source == run)) out.push_back(std::string(key) + ": " + text_of(source) + " in SOURCE, " + text_of(run) + " here");
}

// SOURCE's rows `map[i]` averaged, along `dim`.
torch::Tensor mapped_rows(const torch::Tensor& pretrained, int dim, const config::ClassMap& map, const std::string& key) {
  const std::int64_t available = pretrained.size(dim);
  std::vector<torch::Tensor> rows;
  for (std::size_t i = 0; i < map.size(); ++i) {
    for (const int cls : map[i])
      if (cls < 0 || cls >= available)
        throw Error("finetune.class_map entry " + std::to_string(i) + ": class " + std::to_string(cls) +
                    " is out of range: SOURCE has " + std::to_string(available) + " classes (" + key + ")");
    const auto index = torch::tensor(std::vector<std::int64_t>(map[i].begin(), map[i].end()), torch::kInt64);
    rows.push_back(pretrained.index_select(dim, index).mean(dim, /*keepdim=*/true));
  }
  return torch::cat(rows, dim);
}

// Parameter i of `net` is optimizer parameter optimizer_index[i], or -1 (frozen).
std::vector<int> optimizer_index(const torch::nn::Module& net, const torch::optim::Adam& optimizer) {
  const auto& in_optimizer = optimizer.param_groups().at(0).params();
  std::vector<int> index;
  for (const auto& p : net.parameters()) {
    int found = -1;
    for (std::size_t j = 0; j < in_optimizer.size(); ++j)
      if (in_optimizer[j].unsafeGetTensorImpl() == p.unsafeGetTensorImpl()) found = static_cast<int>(j);
    index.push_back(found);
  }
  return index;
}

// SOURCE's Adam state (by module parameter) for this optimizer (by its own parameters).
void restore_pretrained_adam(torch::optim::Adam& optimizer, const torch::nn::Module& net, const model::StateDict& saved,
                             const std::string& source) {
  if (saved.empty()) throw Error(source + ": finetune.keep_optimizer is true, but SOURCE has no optimizer state for it");
  const auto index = optimizer_index(net, optimizer);
  model::StateDict renumbered;
  for (const auto& [key, value] : saved) {
    const auto dot = key.find('.');
    const std::size_t i = std::stoul(key.substr(0, dot));
    if (i >= index.size())
      throw Error(source + ": optimizer state of parameter " + std::to_string(i) + ", but the model has " +
                  std::to_string(index.size()) + " parameters");
    if (index[i] >= 0) renumbered[std::to_string(index[i]) + key.substr(dot)] = value;
  }
  ckpt::restore_adam_state(optimizer, renumbered, source);
}

// One network: SOURCE's tensors, the class-indexed ones per class_init. Strict: every other
// tensor must be in SOURCE with this run's shape.
model::StateDict merged_state(const torch::nn::Module& fresh_net, const model::StateDict& pretrained,
                              config::ClassInit init, const config::ClassMap& map, const std::string& source) {
  model::StateDict merged = pretrained;
  const model::StateDict fresh = model::state_dict(fresh_net);
  for (const auto& t : class_indexed_tensors(fresh_net)) {
    const auto it = pretrained.find(t.key);
    if (it == pretrained.end()) throw Error(source + ": has no " + t.key + " (a class-indexed tensor of this model)");
    merged[t.key] = t.sn_vector ? (init == config::ClassInit::copy ? it->second : fresh.at(t.key))
                                : initial_class_rows(it->second, fresh.at(t.key), t.dim, init, map, source + ": " + t.key);
  }
  return merged;
}

}  // namespace

std::vector<std::string> architecture_differences(const config::Config& s, const config::Config& r) {
  std::vector<std::string> out;
  const auto& a = s.model;
  const auto& b = r.model;
  compare(out, "resolution", s.derived.resolution, r.derived.resolution);
  compare(out, "model.model", a.model, b.model);
  compare(out, "model.G_param", a.G_param, b.G_param);
  compare(out, "model.G_ch", a.G_ch, b.G_ch);
  compare(out, "model.D_ch", a.D_ch, b.D_ch);
  compare(out, "model.G_depth", a.G_depth, b.G_depth);
  compare(out, "model.D_depth", a.D_depth, b.D_depth);
  compare(out, "model.D_wide", a.D_wide, b.D_wide);
  compare(out, "model.G_shared", a.G_shared, b.G_shared);
  compare(out, "model.shared_dim", s.derived.shared_dim, r.derived.shared_dim);
  compare(out, "model.dim_z", s.derived.dim_z, r.derived.dim_z);
  compare(out, "model.hier", a.hier, b.hier);
  compare(out, "model.G_attn", s.derived.G_attn, r.derived.G_attn);
  compare(out, "model.D_attn", s.derived.D_attn, r.derived.D_attn);
  compare(out, "model.norm_style", a.norm_style, b.norm_style);
  compare(out, "model.mybn", a.mybn, b.mybn);
  compare(out, "model.cross_replica", a.cross_replica, b.cross_replica);
  compare(out, "model.bottom_width", a.bottom_width, b.bottom_width);
  compare(out, "model.num_G_SVs", a.num_G_SVs, b.num_G_SVs);
  compare(out, "model.num_D_SVs", a.num_D_SVs, b.num_D_SVs);
  return out;
}

std::vector<ClassTensor> class_indexed_tensors(const torch::nn::Module& net) {
  std::vector<ClassTensor> out;
  if (const auto* G = dynamic_cast<const model::GeneratorImpl*>(&net)) {
    if (G->G_shared) return {{"shared.weight", 0, false}};
    for (const auto& item : G->named_modules("", /*include_self=*/false))
      if (const auto* bn = item.value()->as<model::CCBNImpl>())
        if (bn->gain.ptr()->as<torch::nn::EmbeddingImpl>())
          for (const char* leaf : {".gain.weight", ".bias.weight"}) out.push_back({item.key() + leaf, 0, false});
    return out;
  }
  if (const auto* D = dynamic_cast<const model::DiscriminatorImpl*>(&net)) {
    out.push_back({"embed.weight", 0, false});
    for (const auto& b : D->embed->named_buffers(/*recurse=*/false))
      if (b.key().rfind("u", 0) == 0) out.push_back({"embed." + b.key(), 1, true});
    return out;
  }
  throw Error("class_indexed_tensors: neither a Generator nor a Discriminator");
}

torch::Tensor initial_class_rows(const torch::Tensor& pretrained, const torch::Tensor& fresh, int dim,
                                 config::ClassInit init, const config::ClassMap& map, const std::string& key) {
  for (std::int64_t d = 0; d < fresh.dim(); ++d)
    if (d != dim && (pretrained.dim() != fresh.dim() || pretrained.size(d) != fresh.size(d)))
      throw Error(key + ": SOURCE's shape " + c10::str(pretrained.sizes()) + " does not fit this model's " +
                  c10::str(fresh.sizes()) + " beyond the class dimension");
  const std::int64_t classes = fresh.size(dim);
  switch (init) {
    case config::ClassInit::copy:
      if (pretrained.size(dim) != classes)
        throw Error(key + ": class_init copy needs the same classes, but SOURCE has " + std::to_string(pretrained.size(dim)) +
                    " and this run " + std::to_string(classes));
      return pretrained.clone();
    case config::ClassInit::map:
      if (static_cast<std::int64_t>(map.size()) != classes)
        throw Error("finetune.class_map has " + std::to_string(map.size()) + " entries for " + std::to_string(classes) +
                    " classes (" + key + ")");
      return mapped_rows(pretrained, dim, map, key);
    case config::ClassInit::mean: {
      std::vector<std::int64_t> sizes(fresh.sizes().begin(), fresh.sizes().end());
      return pretrained.mean(dim, /*keepdim=*/true).expand(sizes).contiguous();
    }
    case config::ClassInit::random:
      return fresh.clone();
    case config::ClassInit::automatic:
      break;
  }
  throw Error(key + ": class_init must be resolved before use");
}

config::ClassInit resolve_class_init(const config::FinetuneConfig& f, int source_classes, int classes) {
  if (f.class_init != config::ClassInit::automatic) return f.class_init;
  if (source_classes == classes) return config::ClassInit::copy;
  throw Error("SOURCE " + f.init_from + " has " + std::to_string(source_classes) + " classes and this run " +
              std::to_string(classes) + ": set finetune.class_init to map (new class i from pretrained classes "
              "finetune.class_map[i]), mean (the mean of all pretrained classes) or random (fresh rows)");
}

void check_architecture(const ckpt::Pretrained& source, const config::Config& c) {
  if (!source.config) return;
  const auto differences = architecture_differences(*source.config, c);
  if (differences.empty()) return;
  std::string list;
  for (const auto& d : differences) list += "\n  " + d;
  throw Error("finetune.init_from " + source.path + ": its architecture (" + source.config_source +
              ") differs from this run's:" + list + "\nset these like SOURCE (only the classes may differ)");
}

void start_from_pretrained(Gan& gan, const ckpt::Pretrained& source, const config::Config& c) {
  const std::string& from = source.path;
  check_architecture(source, c);
  if (!source.config) {
    logging::warn("finetune.init_from " + from + ": no config found beside the weights; this run's model settings are "
                  "assumed and checked by tensor shapes");
  }
  const auto shared = source.G.find("shared.weight");
  const auto embed = source.D.find("embed.weight");
  if (embed == source.D.end()) throw Error(from + ": D has no embed.weight (not a class-conditional BigGAN D)");
  const int source_classes = static_cast<int>(embed->second.size(0));
  if (shared != source.G.end() && shared->second.size(0) != source_classes)
    throw Error(from + ": G has " + std::to_string(shared->second.size(0)) + " classes and D " + std::to_string(source_classes));
  const config::ClassInit init = resolve_class_init(c.finetune, source_classes, c.derived.n_classes);
  const auto& map = c.finetune.class_map;

  torch::NoGradGuard no_grad;
  const model::StateDict G = merged_state(*gan.G, source.G, init, map, from + " G");
  model::load_state_dict(*gan.G, G, true, from + " (G)");
  model::load_state_dict(*gan.D, merged_state(*gan.D, source.D, init, map, from + " D"), true, from + " (D)");
  if (gan.G_ema) {
    if (source.G_ema.empty()) model::load_state_dict(*gan.G_ema, G, true, from + " (G as G_ema)");
    else model::load_state_dict(*gan.G_ema, merged_state(*gan.G_ema, source.G_ema, init, map, from + " G_ema"), true,
                                from + " (G_ema)");
  }
  if (c.finetune.keep_optimizer) {
    restore_pretrained_adam(*gan.G_optim, *gan.G, source.G_optim, from + " (G optimizer)");
    restore_pretrained_adam(*gan.D_optim, *gan.D, source.D_optim, from + " (D optimizer)");
  }
  logging::info("fine-tuning from " + from + (source.kind == ckpt::Pretrained::Kind::checkpoint
                                                   ? " (iteration " + std::to_string(source.itr) + ")"
                                                   : std::string(" (BigGAN-PyTorch weights)")) +
                ": " + std::to_string(source_classes) + " -> " + std::to_string(c.derived.n_classes) + " classes, class_init " +
                config::choice_name(init) + (gan.D_frozen.empty() ? "" : ", D's lowest " +
                                                                          std::to_string(c.finetune.freeze_D_blocks) +
                                                                          " blocks frozen") +
                (c.finetune.keep_optimizer ? ", optimizer state kept" : ""));
}

}  // namespace biggan::train
