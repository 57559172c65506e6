#include "config/config.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

#include "config/datasets.h"
#include "config/experiment_name.h"
#include "core/error.h"
#include "core/suggest.h"

namespace biggan::config {

namespace {

std::string mark_of(const std::string& source, const YAML::Node& node) {
  const YAML::Mark m = node.Mark();
  if (m.line < 0) return source;
  return source + ":" + std::to_string(m.line + 1);
}

template <class T>
std::string type_name() {
  if constexpr (std::is_enum_v<T>) {
    std::string list;
    for (const auto& n : choice_names<T>()) list += (list.empty() ? "" : ", ") + n;
    return "one of: " + list;
  } else if constexpr (std::is_same_v<T, bool>) return "a boolean (true/false)";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else return "a string";
}

// [[207, 208], 151, ...]: each entry one class index or a list of them.
ClassMap convert_class_map(const YAML::Node& node, const std::string& where, const std::string& key) {
  ClassMap map;
  if (node.IsNull()) return map;
  if (!node.IsSequence())
    throw ConfigError(where, key, "expected a list with one entry per new class, e.g. [[207, 208], 151]");
  const auto index = [&](const YAML::Node& n, std::size_t entry) {
    try {
      if (n.IsScalar()) return n.as<int>();
    } catch (const YAML::BadConversion&) {
    }
    throw ConfigError(where, key, "entry " + std::to_string(entry) + ": expected a class index or a list of them, got '" +
                                      (n.IsScalar() ? n.Scalar() : std::string(n.IsMap() ? "a mapping" : "a nested list")) + "'");
  };
  for (std::size_t i = 0; i < node.size(); ++i) {
    const YAML::Node entry = node[i];
    std::vector<int> classes;
    if (entry.IsSequence())
      for (const auto& c : entry) classes.push_back(index(c, i));
    else
      classes.push_back(index(entry, i));
    if (classes.empty()) throw ConfigError(where, key, "entry " + std::to_string(i) + " is an empty list");
    map.push_back(classes);
  }
  return map;
}

// "color,translation": known transform names, each once, in the order they apply.
AugmentPolicy convert_augment_policy(const YAML::Node& node, const std::string& where, const std::string& key) {
  AugmentPolicy policy;
  if (node.IsNull()) return policy;
  if (!node.IsScalar())
    throw ConfigError(where, key, "expected a comma-separated list such as \"color,translation,cutout\" (\"\": off)");
  const std::string text = node.Scalar();
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string name = text.substr(start, comma - start);
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    const auto value = find_choice<Augmentation>(name);
    if (!value) throw ConfigError(where, key, "'" + name + "' in '" + text + "': " +
                                                  unknown_choice_message(name, choice_names<Augmentation>()));
    if (std::find(policy.begin(), policy.end(), *value) != policy.end())
      throw ConfigError(where, key, "'" + name + "' is listed twice in '" + text + "'");
    policy.push_back(*value);
    start = comma + 1;
  }
  return policy;
}

template <class T>
T convert_scalar(const YAML::Node& node, const std::string& where, const std::string& key);

// [1150, 1200]: a list of integers (a single integer is a list of one; null or [] is empty).
std::vector<std::int64_t> convert_int_list(const YAML::Node& node, const std::string& where, const std::string& key) {
  std::vector<std::int64_t> out;
  if (node.IsNull()) return out;
  if (node.IsScalar()) return {convert_scalar<std::int64_t>(node, where, key)};
  if (!node.IsSequence()) throw ConfigError(where, key, "expected a list of integers such as [1150, 1200], got a mapping");
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar())
      throw ConfigError(where, key, "entry " + std::to_string(i) + ": expected an integer, got " +
                                        (node[i].IsMap() ? "a mapping" : node[i].IsSequence() ? "a nested list" : "nothing"));
    out.push_back(convert_scalar<std::int64_t>(node[i], where, key));
  }
  return out;
}

// Converts one YAML scalar into a typed field, with an error naming where and what.
template <class T>
T convert_scalar(const YAML::Node& node, const std::string& where, const std::string& key) {
  if (!node.IsScalar()) {
    if constexpr (std::is_same_v<T, std::string>)
      if (node.IsNull()) return T();
    const char* shape = node.IsMap() ? "a mapping" : node.IsSequence() ? "a list" : "empty";
    throw ConfigError(where, key, std::string("expected ") + type_name<T>() + ", got " + shape);
  }
  const std::string text = node.Scalar();
  try {
    if constexpr (std::is_enum_v<T>) {
      if (const auto value = find_choice<T>(text)) return *value;
      throw ConfigError(where, key, unknown_choice_message(text, choice_names<T>()));
    } else if constexpr (std::is_same_v<T, bool>) {
      return node.as<bool>();
    } else if constexpr (std::is_integral_v<T>) {
      const long long v = node.as<long long>();
      if (v < static_cast<long long>(std::numeric_limits<T>::min()) ||
          v > static_cast<long long>(std::numeric_limits<T>::max()))
        throw ConfigError(where, key, "value " + text + " is out of range");
      return static_cast<T>(v);
    } else if constexpr (std::is_floating_point_v<T>) {
      const double v = node.as<double>();
      if (!std::isfinite(v)) throw ConfigError(where, key, "value " + text + " is not a finite number");
      return v;
    } else {
      return text;
    }
  } catch (const YAML::BadConversion&) {
    throw ConfigError(where, key, std::string("expected ") + type_name<T>() + ", got '" + text + "'");
  }
}

template <class T>
T convert(const YAML::Node& node, const std::string& where, const std::string& key) {
  if constexpr (std::is_same_v<T, ClassMap>) return convert_class_map(node, where, key);
  else if constexpr (std::is_same_v<T, AugmentPolicy>) return convert_augment_policy(node, where, key);
  else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) return convert_int_list(node, where, key);
  else return convert_scalar<T>(node, where, key);
}

// Visitor that assigns one named field of a section.
struct FieldAssigner {
  const std::string& name;
  const YAML::Node& value;
  const std::string& where;
  const std::string& full_key;
  bool found = false;

  template <class T>
  void operator()(const char* field_name, T& field) {
    if (found || name != field_name) return;
    field = convert<T>(value, where, full_key);
    found = true;
  }
};

struct KeyCollector {
  std::vector<std::string>& keys;
  template <class T>
  void operator()(const char* field_name, T&) { keys.push_back(field_name); }
};

void assign_key(Config& config, const std::string& section, const std::string& key, const YAML::Node& value,
                const std::string& where) {
  bool section_found = false;
  bool key_found = false;
  const std::string full_key = section + "." + key;
  for_each_section(config, [&](const char* name, auto& s) {
    if (section != name) return;
    section_found = true;
    FieldAssigner assigner{key, value, where, full_key};
    s.visit(assigner);
    key_found = assigner.found;
  });
  if (!section_found)
    throw ConfigError(where, section, "unknown section '" + section + "'" + did_you_mean(section, section_names()) +
                                          "; sections are: data, model, optim, train, dist, ckpt, eval, sample, log, paths, finetune");
  if (!key_found)
    throw ConfigError(where, full_key,
                      "unknown key '" + key + "' in section '" + section + "'" + did_you_mean(key, keys_of_section(section)));
  config.origin[full_key] = where;
}

// A section or key name: a plain scalar. yaml-cpp would turn `? [a, b]` into a bad conversion
// with no file name.
std::string key_text(const YAML::Node& key, const std::string& where, const std::string& section) {
  if (!key.IsScalar())
    throw ConfigError(where, section,
                      std::string("a ") + (section.empty() ? "section" : "key") + " name must be plain text, got " +
                          (key.IsSequence() ? "a list" : key.IsMap() ? "a mapping" : "nothing"));
  return key.Scalar();
}

void apply_document(Config& config, const YAML::Node& root, const std::string& source) {
  if (root.IsNull()) return;  // an empty file changes nothing
  if (!root.IsMap())
    throw ConfigError(mark_of(source, root), "",
                      "the top level must be a mapping of sections (data:, model:, train:, ...)");
  // yaml-cpp accepts a key twice and both entries reach us, while PyYAML keeps only the last
  // (a repeated section replaces the first one whole): which value counts would depend on the
  // reader, so a repeat is an error, as the YAML spec has it.
  std::map<std::string, std::string> first_seen;  // section or section.key -> where
  const auto once = [&](const std::string& name, const std::string& where, const std::string& what) {
    const auto [it, fresh] = first_seen.emplace(name, where);
    if (!fresh)
      throw ConfigError(where, name, what + " appears twice in this file (first at " + it->second +
                                         "); keep one, YAML keys must be unique");
  };
  for (const auto& section_entry : root) {
    const std::string section_where = mark_of(source, section_entry.first);
    const std::string section = key_text(section_entry.first, section_where, "");
    const YAML::Node& body = section_entry.second;
    const auto names = section_names();
    if (std::find(names.begin(), names.end(), section) == names.end())
      throw ConfigError(section_where, section,
                        "unknown section '" + section + "'" + did_you_mean(section, names) +
                            "; sections are: data, model, optim, train, dist, ckpt, eval, sample, log, paths, finetune");
    once(section, section_where, "section '" + section + "'");
    if (body.IsNull()) continue;
    if (!body.IsMap())
      throw ConfigError(section_where, section, "a section must be a mapping of key: value lines");
    for (const auto& entry : body) {
      const std::string where = mark_of(source, entry.first);
      const std::string key = key_text(entry.first, where, section);
      once(section + "." + key, where, "key '" + key + "'");
      assign_key(config, section, key, entry.second, where);
    }
  }
}

// The one YAML document of a config text, parsed once; a null node when the text holds none.
YAML::Node single_document(const std::string& text, const std::string& source) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own message for it is "bad file"
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1), "",
                      "malformed YAML: nested more than " + std::to_string(e.depth() - 1) +
                          " levels deep (an unclosed '[' or '{'?)");
  } catch (const YAML::ParserException& e) {
    throw ConfigError(source + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1), "",
                      "malformed YAML: " + e.msg);
  }
  // A second document (after `---`) would otherwise be read by nobody.
  if (documents.size() > 1)
    throw ConfigError(mark_of(source, documents[1]), "",
                      "a second YAML document (after '---'); a config file is one document, so merge them or "
                      "give each as its own --config");
  return documents.empty() ? YAML::Node() : documents.front();
}

// Shortest decimal text that reads back to the same double: 1e-05, 0.0001, 0.999.
std::string format_double(double v) {
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  // Keep YAML from reading "1" back as an integer for a float field: that would still load,
  // but the printed config should show the type.
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string quote(const std::string& s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << s;
  return e.c_str();
}

struct YamlPrinter {
  std::ostringstream& out;
  std::set<std::string> derived_keys;  // printed as comments: their value follows from other keys
  template <class T>
  void operator()(const char* name, T& field) {
    if (derived_keys.count(name)) {
      out << "  # " << name << ": derived, see below\n";
      return;
    }
    out << "  " << name << ": ";
    if constexpr (std::is_same_v<T, ClassMap>) {
      out << "[";
      for (std::size_t i = 0; i < field.size(); ++i) {
        out << (i ? ", " : "");
        if (field[i].size() == 1) {
          out << field[i][0];
          continue;
        }
        out << "[";
        for (std::size_t j = 0; j < field[i].size(); ++j) out << (j ? ", " : "") << field[i][j];
        out << "]";
      }
      out << "]";
    } else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>) {
      out << "[";
      for (std::size_t i = 0; i < field.size(); ++i) out << (i ? ", " : "") << field[i];
      out << "]";
    } else if constexpr (std::is_same_v<T, AugmentPolicy>) {
      std::string text;
      for (const auto a : field) text += (text.empty() ? "" : ",") + std::string(choice_name(a));
      out << quote(text);
    } else if constexpr (std::is_enum_v<T>) out << quote(choice_name(field));
    else if constexpr (std::is_same_v<T, bool>) out << (field ? "true" : "false");
    else if constexpr (std::is_integral_v<T>) out << field;
    else if constexpr (std::is_floating_point_v<T>) out << format_double(field);
    else out << quote(field);
    out << "\n";
  }
};

std::string join(const std::vector<int>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

// G block output resolutions for BigGAN (spec §2.1): 8, 16, ..., resolution.
std::vector<int> G_block_resolutions(int resolution) {
  std::vector<int> r;
  for (int s = 8; s <= resolution; s *= 2) r.push_back(s);
  return r;
}

// D block output resolutions as BigGAN-PyTorch labels them (spec §2.2). At 32 px all four
// blocks carry the label 16: an original quirk kept for weight compatibility.
std::vector<int> D_block_resolutions(int resolution) {
  if (resolution == 32) return {16, 16, 16, 16};
  std::vector<int> r;
  for (int s = resolution / 2; s >= 4; s /= 2) r.push_back(s);
  r.push_back(4);
  return r;
}

class Validator {
 public:
  explicit Validator(const Config& c) : c_(c) {}

  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw ConfigError(c_.where(key), key, message);
  }
  void require(bool ok, const std::string& key, const std::string& message) const {
    if (!ok) fail(key, message);
  }
  template <class T>
  void at_least(T value, T minimum, const std::string& key) const {
    if (value < minimum) {
      std::ostringstream m;
      m << "must be >= " << minimum << ", got " << value;
      fail(key, m.str());
    }
  }
  // A value the step reads as a float32 scalar: beyond float32's range LibTorch refuses it without
  // naming the key ("value cannot be converted to type float without overflow").
  void positive_float32(double value, const std::string& key) const {
    require(value > 0, key, "must be > 0");
    if (value > std::numeric_limits<float>::max()) {
      std::ostringstream m;
      m << "must be at most " << std::numeric_limits<float>::max() << " (float32's largest), got " << value;
      fail(key, m.str());
    }
  }
  void in_range(double value, double lo, double hi, bool hi_inclusive, const std::string& key) const {
    const bool ok = value >= lo && (hi_inclusive ? value <= hi : value < hi);
    if (!ok) {
      std::ostringstream m;
      m << "must be in [" << lo << ", " << hi << (hi_inclusive ? "]" : ")") << ", got " << value;
      fail(key, m.str());
    }
  }

 private:
  const Config& c_;
};

// "start_step_end" -> start, start + step, ... up to end (inclusive, with rounding slack). Each
// value is a whole IS/FID evaluation, so a step that makes thousands of them is a typo.
std::vector<double> truncation_curve_values(const Config& c, const Validator& v) {
  const std::string& spec = c.sample.sample_trunc_curves;
  if (spec.empty()) return {};
  constexpr int kMaxValues = 1000;
  double start = 0, step = 0, end = 0;
  char extra = 0;
  const int n = std::sscanf(spec.c_str(), "%lf_%lf_%lf%c", &start, &step, &end, &extra);
  if (n != 3 || !(step > 0) || !(start > 0) || !(end >= start) || !std::isfinite(end))
    v.fail("sample.sample_trunc_curves",
           "expected start_step_end with 0 < start <= end and step > 0 (e.g. 0.05_0.05_1.0), got '" + spec + "'");
  if ((end - start) / step >= kMaxValues) {
    char count[32];
    std::snprintf(count, sizeof count, "%.4g", std::floor((end - start) / step) + 1);
    v.fail("sample.sample_trunc_curves", "'" + spec + "' makes " + count +
                                             " values, each a full IS/FID evaluation; at most " +
                                             std::to_string(kMaxValues) + " (e.g. 0.05_0.05_1.0 makes 20)");
  }
  std::vector<double> values;
  for (int i = 0;; ++i) {
    const double value = start + i * step;
    if (value > end + 1e-9) break;
    values.push_back(std::round(value * 1e9) / 1e9);
  }
  return values;
}

void validate_sections(const Config& c, const Validator& v) {
  // data
  v.at_least(c.data.resolution, 0, "data.resolution");
  v.at_least(c.data.n_classes, 0, "data.n_classes");
  v.at_least(c.data.prefetch_batches, 1, "data.prefetch_batches");

  // model
  const auto& m = c.model;
  v.require(m.D_param == model::Parameterization::SN, "model.D_param",
            "only SN: BigGAN-PyTorch's D has no plain layers (it crashes with anything else)");
  v.at_least(m.G_ch, 1, "model.G_ch");
  v.at_least(m.D_ch, 1, "model.D_ch");
  v.at_least(m.G_depth, 1, "model.G_depth");
  v.at_least(m.D_depth, 1, "model.D_depth");
  v.at_least(m.shared_dim, 0, "model.shared_dim");
  v.at_least(m.dim_z, 1, "model.dim_z");
  // Every architecture table doubles a 4x4 map once per G block up to the data's resolution, as
  // BigGAN-PyTorch's do; another start gives images D cannot be shown beside the real ones.
  v.require(m.bottom_width == 4, "model.bottom_width",
            "must be 4, got " + std::to_string(m.bottom_width) +
                ": G's blocks double a 4x4 map up to the data's resolution (4 x 2^3 = 32 px, 4 x 2^5 = 128 px), "
                "so another start gives images of the wrong size");
  v.at_least(m.num_G_SVs, 1, "model.num_G_SVs");
  v.at_least(m.num_D_SVs, 1, "model.num_D_SVs");
  v.at_least(m.num_G_SV_itrs, 1, "model.num_G_SV_itrs");
  v.at_least(m.num_D_SV_itrs, 1, "model.num_D_SV_itrs");
  v.positive_float32(m.SN_eps, "model.SN_eps");
  v.require(m.BN_eps > 0, "model.BN_eps", "must be > 0");
  if (m.hier && !m.G_shared)
    v.fail("model.hier", "hier: true needs model.G_shared: true (the z chunks are concatenated with the shared "
                         "class embedding; model.G_shared is false, from " + c.where("model.G_shared") + ")");
  if (m.model == model::Architecture::BigGANdeep && !(m.hier && m.G_shared))
    v.fail("model.model", "BigGANdeep needs model.hier: true and model.G_shared: true (its blocks are conditioned "
                          "on [shared(y), z]); BigGAN-PyTorch crashes without them");
  if (m.cross_replica && m.mybn)
    v.fail("model.mybn", "model.cross_replica and model.mybn are both true; choose one batch-norm implementation");
  if ((m.cross_replica || m.mybn) && m.norm_style != model::NormStyle::bn)
    v.fail("model.norm_style", std::string("norm_style '") + choice_name(m.norm_style) + "' cannot be combined with " +
                                   (m.cross_replica ? "model.cross_replica" : "model.mybn") +
                                   ", which are batch-norm implementations");

  // optim
  const auto& o = c.optim;
  v.positive_float32(o.G_lr, "optim.G_lr");
  v.positive_float32(o.D_lr, "optim.D_lr");
  v.in_range(o.G_B1, 0, 1, false, "optim.G_B1");
  v.in_range(o.D_B1, 0, 1, false, "optim.D_B1");
  v.in_range(o.G_B2, 0, 1, false, "optim.G_B2");
  v.in_range(o.D_B2, 0, 1, false, "optim.D_B2");
  v.require(o.adam_eps > 0, "optim.adam_eps", "must be > 0");
  if (o.adam_eps > 0 && o.adam_eps < std::numeric_limits<float>::min()) {
    // Adam adds it to sqrt(v) in float32, where it is 0 (or a denormal flushed to 0): a parameter
    // with a zero gradient then gets 0 / 0 and the first step's losses are NaN.
    std::ostringstream text;
    text << "must be at least " << std::numeric_limits<float>::min() << " (float32's smallest normal), got " << o.adam_eps;
    v.fail("optim.adam_eps", text.str());
  }
  v.require(o.G_ortho >= 0, "optim.G_ortho", "must be >= 0");
  v.require(o.D_ortho >= 0, "optim.D_ortho", "must be >= 0");
  v.at_least<std::int64_t>(o.lr_decay_start, 0, "optim.lr_decay_start");
  if (o.lr_schedule == LrSchedule::constant && o.lr_decay_start != 0)
    v.fail("optim.lr_decay_start", "is " + std::to_string(o.lr_decay_start) +
                                       " but optim.lr_schedule is 'constant', which never decays; set "
                                       "optim.lr_schedule: linear_decay or remove optim.lr_decay_start");
  // The decay ends at the run's last iteration, so the run's length must be known before it starts.
  if (o.lr_schedule == LrSchedule::linear_decay && c.train.total_iterations == 0)
    v.fail("optim.lr_schedule", "linear_decay needs train.total_iterations (the iteration where the rates reach "
                                "their last, smallest value); train.num_epochs alone does not fix it before the "
                                "data is read");
  if (o.lr_schedule == LrSchedule::linear_decay && o.lr_decay_start >= c.train.total_iterations)
    v.fail("optim.lr_decay_start", "must be below train.total_iterations (" +
                                       std::to_string(c.train.total_iterations) + ") for the rates to decay, got " +
                                       std::to_string(o.lr_decay_start));

  // train
  const auto& t = c.train;
  v.at_least(t.batch_size, 1, "train.batch_size");
  v.at_least(t.G_batch_size, 0, "train.G_batch_size");
  v.at_least(t.global_batch_size, 0, "train.global_batch_size");
  v.at_least(t.num_D_steps, 1, "train.num_D_steps");
  v.at_least(t.num_D_accumulations, 1, "train.num_D_accumulations");
  v.at_least(t.num_G_accumulations, 1, "train.num_G_accumulations");
  v.at_least(t.num_epochs, 1, "train.num_epochs");
  v.at_least<std::int64_t>(t.total_iterations, 0, "train.total_iterations");
  v.in_range(t.ema_decay, 0, 1, true, "train.ema_decay");
  v.at_least(t.ema_start, 0, "train.ema_start");
  if (t.use_ema && !t.ema)
    v.fail("train.use_ema", "use_ema: true needs train.ema: true (there is no G_ema to use)");

  // dist
  v.at_least(c.dist.intra_op_threads, 1, "dist.intra_op_threads");
  v.at_least(c.dist.consistency_check_every, 0, "dist.consistency_check_every");

  // ckpt
  v.at_least(c.ckpt.save_every, 0, "ckpt.save_every");
  v.at_least(c.ckpt.num_save_copies, 0, "ckpt.num_save_copies");
  v.at_least(c.ckpt.num_best_copies, 0, "ckpt.num_best_copies");
  v.at_least(c.ckpt.keep_every, 0, "ckpt.keep_every");
  v.at_least(c.ckpt.walltime_minutes, 0, "ckpt.walltime_minutes");

  // eval
  v.at_least(c.eval.test_every, 0, "eval.test_every");
  // Iterations past the run's end are allowed: a shortened run of a config never reaches them,
  // and a run extended on resume (train.total_iterations raised) does.
  for (std::size_t i = 0; i < c.eval.test_at.size(); ++i) {
    const std::int64_t itr = c.eval.test_at[i];
    v.require(itr >= 1, "eval.test_at", "iterations start at 1, got " + std::to_string(itr));
    if (i > 0)
      v.require(itr > c.eval.test_at[i - 1], "eval.test_at",
                "expected ascending iterations, each once; got " + std::to_string(itr) + " after " +
                    std::to_string(c.eval.test_at[i - 1]));
  }
  v.at_least(c.eval.num_inception_images, 1, "eval.num_inception_images");
  if (c.ckpt.which_best == BestMetric::FID && c.eval.no_fid && c.eval.test_every > 0)
    v.fail("ckpt.which_best", "which_best: FID needs the FID, but eval.no_fid is true; choose IS or compute the FID");
  v.at_least(c.eval.num_standing_accumulations, 1, "eval.num_standing_accumulations");
  // Two samples at least: the Frechet distance needs a covariance of the classifier's features.
  v.at_least(c.eval.num_classifier_samples, 2, "eval.num_classifier_samples");

  // sample
  const auto& s = c.sample;
  v.require(s.z_var > 0, "sample.z_var", "must be > 0");
  v.require(s.truncation >= 0, "sample.truncation", "must be >= 0 (0 turns truncation off)");
  v.at_least(s.sample_num_npz, 1, "sample.sample_num_npz");
  v.at_least(s.classes_per_sheet, 0, "sample.classes_per_sheet");
  v.at_least(s.samples_per_class, 1, "sample.samples_per_class");
  v.at_least(s.interp_rows, 1, "sample.interp_rows");
  v.at_least(s.interp_midpoints, 0, "sample.interp_midpoints");
  // A sheet's side in images. Training draws its sheets at every save: 100,000 columns took more
  // than the whole run, for one PNG no viewer opens, so a side beyond this is a typo.
  constexpr int kMaxSheetSide = 1000;
  for (const auto& [key, value] : {std::pair{"sample.samples_per_class", s.samples_per_class},
                                   std::pair{"sample.interp_rows", s.interp_rows},
                                   std::pair{"sample.interp_midpoints", s.interp_midpoints}})
    v.require(value <= kMaxSheetSide, key,
              "must be at most " + std::to_string(kMaxSheetSide) + " (images along a sheet's side), got " +
                  std::to_string(value));

  // log
  v.at_least(c.log.sv_log_interval, 0, "log.sv_log_interval");
  v.at_least(c.log.print_every, 0, "log.print_every");

  // finetune
  const auto& f = c.finetune;
  v.at_least(f.freeze_D_blocks, 0, "finetune.freeze_D_blocks");
  if (!f.class_map.empty() && f.class_init != ClassInit::map)
    v.fail("finetune.class_map", std::string("is set, but finetune.class_init is '") + choice_name(f.class_init) +
                                     "' (class_map is read only with class_init: map)");
  if (f.class_init == ClassInit::map && f.class_map.empty())
    v.fail("finetune.class_map", "class_init: map needs finetune.class_map, one entry per new class (e.g. [[207, 208], 151])");
  for (std::size_t i = 0; i < f.class_map.size(); ++i)
    for (const int cls : f.class_map[i])
      if (cls < 0) v.fail("finetune.class_map", "entry " + std::to_string(i) + ": class " + std::to_string(cls) + " is negative");

  // paths
  for (const char* key : {"paths.experiment_name", "paths.name_suffix"}) {
    const std::string& value = std::string(key) == "paths.experiment_name" ? c.paths.experiment_name : c.paths.name_suffix;
    v.require(value.find('/') == std::string::npos && value != "." && value != "..", key,
              "must be a plain folder name without '/', got '" + value + "'");
  }
}

}  // namespace

std::string Config::where(const std::string& key) const {
  const auto it = origin.find(key);
  return it == origin.end() ? "default" : it->second;
}

std::vector<std::string> section_names() {
  std::vector<std::string> names;
  Config c;
  for_each_section(c, [&](const char* name, auto&) { names.emplace_back(name); });
  return names;
}

std::vector<std::string> keys_of_section(const std::string& section) {
  std::vector<std::string> keys;
  Config c;
  for_each_section(c, [&](const char* name, auto& s) {
    if (section == name) s.visit(KeyCollector{keys});
  });
  return keys;
}

void apply_yaml_text(Config& config, const std::string& text, const std::string& source) {
  apply_document(config, single_document(text, source), source);
}

void apply_yaml_file(Config& config, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path, "", "is a directory, not a config file (give a .yaml file, e.g. configs/fmnist_demo.yaml)");
  std::ifstream in(path);
  if (!in) throw ConfigError(path, "", "cannot open config file (does it exist and is it readable?)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw ConfigError(path, "", "error while reading config file");
  const YAML::Node root = single_document(buffer.str(), path);
  // An empty file would silently run every default (ImageNet at 128 px): almost surely a mistake.
  if (root.IsNull())
    throw ConfigError(path, "", "config file has no settings (empty, or only comments); leave --config out to use "
                                "the defaults on purpose");
  apply_document(config, root, path);
}

void apply_override(Config& config, const std::string& assignment, const std::string& source) {
  const std::string where = source + " " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where, "", "expected section.key=value, e.g. --set train.batch_size=32");
  const std::string path = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  const auto dot = path.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == path.size() || path.find('.', dot + 1) != std::string::npos)
    throw ConfigError(where, path, "expected section.key=value, e.g. --set train.batch_size=32");
  YAML::Node node;
  try {
    node = YAML::Load(value);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(where, path, "malformed value: " + e.msg);
  }
  if (value.empty()) node = YAML::Node(YAML::NodeType::Null);
  assign_key(config, path.substr(0, dot), path.substr(dot + 1), node, source);
}

std::vector<int> parse_resolution_list(const std::string& text) {
  std::vector<int> out;
  if (text.empty() || text == "0") return out;
  if (text.back() == '_')  // getline below would drop the empty last item
    throw Error("expected underscore-separated resolutions such as 64 or 32_64, got '" + text + "'");
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, '_')) {
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
      throw Error("expected underscore-separated resolutions such as 64 or 32_64, got '" + text + "'");
    // No resolution has more than 5 digits; longer ones would overflow stoi.
    const int r = item.size() > 5 ? -1 : std::stoi(item);
    if (r <= 0) throw Error("resolutions must be positive and below 100000, got '" + text + "'");
    out.push_back(r);
  }
  return out;
}

void resolve(Config& c, int world_size) {
  BIGGAN_CHECK(world_size >= 1, "world size must be >= 1, got " << world_size);
  c.warnings.clear();
  Validator v(c);
  validate_sections(c, v);
  Derived d;
  d.world_size = world_size;

  // Paths: base_root sets the roots that were not given explicitly (the original overrode all).
  d.data_root = c.data.data_root;
  d.runs_root = c.paths.runs_root;
  if (!c.paths.base_root.empty()) {
    if (!c.is_set("data.data_root")) d.data_root = c.paths.base_root + "/data";
    if (!c.is_set("paths.runs_root")) d.runs_root = c.paths.base_root + "/runs";
  }

  // Dataset
  const auto info = find_dataset(c.data.dataset);
  if (!info) {
    std::string list;
    for (const auto& n : dataset_names()) list += (list.empty() ? "" : ", ") + n;
    v.fail("data.dataset", "unknown dataset '" + c.data.dataset + "'" + did_you_mean(c.data.dataset, dataset_names()) +
                               "; known: " + list);
  }
  if (info->name == "custom") {
    v.require(!c.data.path.empty(), "data.path", "dataset 'custom' needs data.path (the HDF5 file)");
    // The command line reads both from the file where they are unset (cli::load_config), so
    // they are missing here only when the file is.
    v.require(c.data.resolution > 0, "data.resolution",
              "dataset 'custom' needs data.resolution; it is read from data.path's file when that exists (" +
                  c.data.path + " does not)");
    v.require(c.data.n_classes > 0, "data.n_classes",
              "dataset 'custom' needs data.n_classes; it is read from data.path's file when that exists (" +
                  c.data.path + " does not)");
    d.resolution = c.data.resolution;
    d.n_classes = c.data.n_classes;
    d.classes_per_sheet = std::min(d.n_classes, 20);
  } else {
    if (c.data.resolution != 0 && c.data.resolution != info->resolution)
      v.fail("data.resolution", "dataset " + info->name + " is " + std::to_string(info->resolution) +
                                    " px but data.resolution is " + std::to_string(c.data.resolution) +
                                    "; use dataset 'custom' for other sizes");
    if (c.data.n_classes != 0 && c.data.n_classes != info->n_classes)
      v.fail("data.n_classes", "dataset " + info->name + " has " + std::to_string(info->n_classes) +
                                   " classes but data.n_classes is " + std::to_string(c.data.n_classes));
    d.resolution = info->resolution;
    d.n_classes = info->n_classes;
    d.classes_per_sheet = info->classes_per_sheet;
  }
  if (c.finetune.class_init == ClassInit::map && static_cast<int>(c.finetune.class_map.size()) != d.n_classes)
    v.fail("finetune.class_map", "has " + std::to_string(c.finetune.class_map.size()) + " entries, but this run has " +
                                     std::to_string(d.n_classes) + " classes (one entry per new class)");
  if (c.sample.classes_per_sheet > 0) d.classes_per_sheet = std::min(c.sample.classes_per_sheet, d.n_classes);
  d.dataset_path = !c.data.path.empty() ? c.data.path : d.data_root + "/" + info->file;

  const bool deep = c.model.model == model::Architecture::BigGANdeep;
  const std::set<int> supported = deep ? std::set<int>{32, 64, 128, 256} : std::set<int>{32, 64, 128, 256, 512};
  if (!supported.count(d.resolution))
    v.fail(c.is_set("data.resolution") ? "data.resolution" : "data.dataset",
           std::string(choice_name(c.model.model)) + " has no architecture for " + std::to_string(d.resolution) +
               " px (supported: " + (deep ? "32, 64, 128, 256" : "32, 64, 128, 256, 512") + ")");

  // Architecture-derived latent sizes (spec §2.3; deep: §2.6)
  d.num_G_blocks = d.resolution == 32 ? 3 : static_cast<int>(std::lround(std::log2(d.resolution))) - 2;
  d.shared_dim = c.model.shared_dim > 0 ? c.model.shared_dim : c.model.dim_z;
  d.dim_z = c.model.dim_z;
  if (c.model.hier && !deep) {
    d.num_slots = d.num_G_blocks + 1;
    d.z_chunk_size = c.model.dim_z / d.num_slots;
    if (d.z_chunk_size < 1)
      v.fail("model.dim_z", "with hier the latent is split into " + std::to_string(d.num_slots) +
                                " chunks, so dim_z must be >= " + std::to_string(d.num_slots) + ", got " +
                                std::to_string(c.model.dim_z));
    d.dim_z = d.z_chunk_size * d.num_slots;
    if (d.dim_z != c.model.dim_z)
      c.warnings.push_back("model.dim_z " + std::to_string(c.model.dim_z) + " rounded down to " +
                           std::to_string(d.dim_z) + " (" + std::to_string(d.num_slots) + " hierarchical chunks of " +
                           std::to_string(d.z_chunk_size) + ")");
  }

  // Attention resolutions
  auto parse_attn = [&](const std::string& key, const std::string& text, const std::vector<int>& blocks, const char* net) {
    std::vector<int> r;
    try {
      r = parse_resolution_list(text);
    } catch (const Error& e) {
      v.fail(key, e.what());
    }
    for (int res : r)
      if (std::find(blocks.begin(), blocks.end(), res) == blocks.end())
        c.warnings.push_back(key + ": no " + net + " block at " + std::to_string(res) + " px, so no attention is added there (" +
                             net + " blocks: " + join(blocks, ", ") + ")");
    return r;
  };
  d.G_attn = parse_attn("model.G_attn", c.model.G_attn, G_block_resolutions(d.resolution), "G");
  d.D_attn = parse_attn("model.D_attn", c.model.D_attn, D_block_resolutions(d.resolution), "D");
  d.truncation_curve = truncation_curve_values(c, v);

  // Batch accounting: global = micro-batch x accumulations x ranks.
  d.num_D_accumulations = c.train.num_D_accumulations;
  d.num_G_accumulations = c.train.num_G_accumulations;
  if (c.train.global_batch_size > 0) {
    const std::int64_t per_accumulation = static_cast<std::int64_t>(c.train.batch_size) * world_size;
    if (c.train.global_batch_size % per_accumulation != 0)
      v.fail("train.global_batch_size",
             "global batch " + std::to_string(c.train.global_batch_size) + " is not divisible by batch_size x ranks = " +
                 std::to_string(c.train.batch_size) + " x " + std::to_string(world_size) + " = " +
                 std::to_string(per_accumulation) + "; choose a batch_size or rank count that divides it");
    const int accumulations = static_cast<int>(c.train.global_batch_size / per_accumulation);
    for (const char* key : {"train.num_D_accumulations", "train.num_G_accumulations"}) {
      const int given = std::string(key) == "train.num_D_accumulations" ? c.train.num_D_accumulations
                                                                         : c.train.num_G_accumulations;
      if (c.is_set(key) && given != accumulations)
        v.fail(key, std::to_string(given) + " contradicts train.global_batch_size " +
                        std::to_string(c.train.global_batch_size) + " = batch_size " + std::to_string(c.train.batch_size) +
                        " x ranks " + std::to_string(world_size) + " x accumulations " + std::to_string(accumulations) +
                        "; set only one of them");
    }
    d.num_D_accumulations = accumulations;
    d.num_G_accumulations = accumulations;
  }
  d.G_batch_size = std::max(c.train.G_batch_size, c.train.batch_size);
  d.standing_batches = c.eval.accumulate_stats ? c.eval.num_standing_accumulations : 0;
  d.global_batch_size = static_cast<std::int64_t>(c.train.batch_size) * d.num_D_accumulations * world_size;
  d.global_G_batch_size = static_cast<std::int64_t>(d.G_batch_size) * d.num_G_accumulations * world_size;
  d.loader_batch_per_rank = static_cast<std::int64_t>(c.train.batch_size) * c.train.num_D_steps * d.num_D_accumulations;
  d.images_per_iteration = d.loader_batch_per_rank * world_size;
  if (c.model.cross_replica && world_size == 1)
    c.warnings.push_back("model.cross_replica with one rank: batch statistics are local anyway");

  c.derived = d;
  // The name depends on derived values (accumulations x ranks), so it comes last.
  c.derived.experiment_name = c.paths.experiment_name.empty() ? name_from_config(c) : c.paths.experiment_name;
  if (c.paths.hashname && c.paths.experiment_name.empty())
    c.derived.experiment_name = hash_name(c.derived.experiment_name);
  c.derived.run_dir = c.derived.runs_root + "/" + c.derived.experiment_name;
}

Config apply_all(const std::vector<std::string>& files, const std::vector<std::string>& overrides) {
  Config c;
  for (const auto& f : files) apply_yaml_file(c, f);
  for (const auto& o : overrides) apply_override(c, o);
  return c;
}

Config load(const std::vector<std::string>& files, const std::vector<std::string>& overrides, int world_size) {
  Config c = apply_all(files, overrides);
  resolve(c, world_size);
  return c;
}

std::string run_identity_yaml(const Config& config) {
  Config c = config;
  const Config defaults;
  c.dist = defaults.dist;
  c.ckpt = defaults.ckpt;
  c.eval = defaults.eval;
  c.sample = defaults.sample;
  c.log = defaults.log;
  c.train.total_iterations = defaults.train.total_iterations;
  c.train.num_epochs = defaults.train.num_epochs;
  // Elastic resume changes these on another number of ranks, keeping the global batch.
  c.train.global_batch_size = defaults.train.global_batch_size;
  c.train.num_D_accumulations = defaults.train.num_D_accumulations;
  c.train.num_G_accumulations = defaults.train.num_G_accumulations;
  c.data.data_root = defaults.data.data_root;
  c.data.path = defaults.data.path;
  c.data.load_in_mem = defaults.data.load_in_mem;
  c.data.prefetch_batches = defaults.data.prefetch_batches;
  c.data.pin_memory = defaults.data.pin_memory;
  c.paths.base_root = defaults.paths.base_root;
  c.paths.runs_root = defaults.paths.runs_root;
  // The activation layout changes only the order of float sums (as another CPU's kernels do) and
  // its best value depends on the machine: a run requeued onto another CPU, or switched to
  // `auto`, resumes with either.
  c.model.channels_last = defaults.model.channels_last;
  // Where a fine-tuning run's weights came from is read once, at its start; only what shapes
  // the optimizer (the frozen D blocks) stays part of the run.
  const int frozen = c.finetune.freeze_D_blocks;
  c.finetune = defaults.finetune;
  c.finetune.freeze_D_blocks = frozen;
  return to_yaml(c, /*with_derived=*/false);
}

std::vector<std::string> run_identity_differences(const Config& before, const Config& now) {
  const YAML::Node a = YAML::Load(run_identity_yaml(before)), b = YAML::Load(run_identity_yaml(now));
  const auto text = [](const YAML::Node& n) { return n && n.IsScalar() ? n.as<std::string>() : std::string(n ? "(set)" : "(none)"); };
  std::vector<std::string> out;
  for (const auto& section : a) {
    const std::string name = section.first.as<std::string>();
    for (const auto& key : section.second) {
      const std::string k = key.first.as<std::string>();
      const YAML::Node other = b[name] ? b[name][k] : YAML::Node();
      if (text(key.second) != text(other)) out.push_back(name + "." + k + ": " + text(key.second) + " -> " + text(other));
    }
  }
  return out;
}

std::string to_yaml(const Config& config, bool with_derived) {
  std::ostringstream out;
  Config copy = config;  // visit() takes mutable references
  for_each_section(copy, [&](const char* name, auto& s) {
    out << name << ":\n";
    std::set<std::string> derived_keys;
    // With a global batch, accumulations follow from the rank count: printing them would pin
    // the config to this rank count.
    if (std::string(name) == "train" && config.train.global_batch_size > 0)
      derived_keys = {"num_D_accumulations", "num_G_accumulations"};
    s.visit(YamlPrinter{out, derived_keys});
  });
  if (with_derived) {
    const Derived& d = config.derived;
    out << "# derived (computed by biggan from the values above and " << d.world_size << " rank"
        << (d.world_size == 1 ? "" : "s") << "):\n"
        << "#   experiment_name: " << d.experiment_name << "\n"
        << "#   run_dir: " << d.run_dir << "\n"
        << "#   dataset_path: " << d.dataset_path << "\n"
        << "#   resolution: " << d.resolution << "\n"
        << "#   n_classes: " << d.n_classes << "\n"
        << "#   dim_z: " << d.dim_z << (d.num_slots > 1 ? " (" + std::to_string(d.num_slots) + " chunks of " +
                                                              std::to_string(d.z_chunk_size) + ")"
                                                        : std::string())
        << "\n"
        << "#   shared_dim: " << d.shared_dim << "\n"
        << "#   G_batch_size: " << d.G_batch_size << "\n"
        << "#   num_D_accumulations: " << d.num_D_accumulations << "\n"
        << "#   num_G_accumulations: " << d.num_G_accumulations << "\n"
        << "#   global_batch_size: " << d.global_batch_size << " (batch_size x num_D_accumulations x ranks)\n"
        << "#   global_G_batch_size: " << d.global_G_batch_size << "\n"
        << "#   real_images_per_iteration: " << d.images_per_iteration << "\n";
  }
  return out.str();
}

}  // namespace biggan::config
