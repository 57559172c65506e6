#include "config/experiment_name.h"

#include <cstdio>
#include <vector>

#include "config/config.h"

namespace biggan::config {

namespace {

std::string format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, value);
  return buf;
}

}  // namespace

std::string name_from_config(const Config& c) {
  const auto& m = c.model;
  const auto& o = c.optim;
  const auto& t = c.train;
  const auto& d = c.derived;
  // Accumulation counts appear as accumulations x ranks, so that 8 ranks x 1 accumulation and
  // 1 rank x 8 accumulations (the same global batch) share a name and a run folder: an
  // elastic resume keeps its name, and BigGAN-PyTorch's single-process names are reproduced.
  const long long nDa = static_cast<long long>(d.num_D_accumulations) * d.world_size;
  const long long nGa = static_cast<long long>(d.num_G_accumulations) * d.world_size;

  std::vector<std::string> parts;
  const auto name = [](auto choice) { return std::string(choice_name(choice)); };
  parts.push_back("Big" + name(t.which_train_fn));
  parts.push_back(c.data.dataset);
  if (m.model != model::Architecture::BigGAN) parts.push_back(name(m.model));
  parts.push_back("seed" + std::to_string(t.seed));
  parts.push_back("Gch" + std::to_string(m.G_ch));
  parts.push_back("Dch" + std::to_string(m.D_ch));
  if (m.G_depth > 1) parts.push_back("Gd" + std::to_string(m.G_depth));
  if (m.D_depth > 1) parts.push_back("Dd" + std::to_string(m.D_depth));
  parts.push_back("bs" + std::to_string(t.batch_size));
  // The original's Gfp16/Dfp16 slot; our reduced precision is bf16.
  if (m.G_precision != model::Precision::fp32) parts.push_back("G" + name(m.G_precision));
  if (m.D_precision != model::Precision::fp32) parts.push_back("D" + name(m.D_precision));
  if (t.num_D_steps > 1) parts.push_back("nDs" + std::to_string(t.num_D_steps));
  if (nDa > 1) parts.push_back("nDa" + std::to_string(nDa));
  if (nGa > 1) parts.push_back("nGa" + std::to_string(nGa));
  parts.push_back("Glr" + format("%2.1e", o.G_lr));
  parts.push_back("Dlr" + format("%2.1e", o.D_lr));
  if (o.G_B1 > 0) parts.push_back("GB" + format("%3.3f", o.G_B1));
  if (o.D_B1 > 0) parts.push_back("DB" + format("%3.3f", o.D_B1));
  if (o.G_B2 < 0.999) parts.push_back("GBB" + format("%3.3f", o.G_B2));
  if (o.D_B2 < 0.999) parts.push_back("DBB" + format("%3.3f", o.D_B2));
  parts.push_back("Gnl" + name(m.G_nl));
  parts.push_back("Dnl" + name(m.D_nl));
  parts.push_back("Ginit" + name(m.G_init));
  parts.push_back("Dinit" + name(m.D_init));
  if (m.G_param != model::Parameterization::SN) parts.push_back("G" + name(m.G_param));
  if (m.D_param != model::Parameterization::SN) parts.push_back("D" + name(m.D_param));
  if (m.G_attn != "0") parts.push_back("Gattn" + m.G_attn);
  if (m.D_attn != "0") parts.push_back("Dattn" + m.D_attn);
  if (o.G_ortho > 0) parts.push_back("Gortho" + format("%2.1e", o.G_ortho));
  if (o.D_ortho > 0) parts.push_back("Dortho" + format("%2.1e", o.D_ortho));
  if (m.norm_style != model::NormStyle::bn) parts.push_back(name(m.norm_style));
  if (m.cross_replica) parts.push_back("cr");
  if (m.G_shared) parts.push_back("Gshared");
  if (m.hier) parts.push_back("hier");
  if (t.ema) parts.push_back("ema");
  if (!c.paths.name_suffix.empty()) parts.push_back(c.paths.name_suffix);

  std::string joined;
  for (const auto& p : parts) joined += (joined.empty() ? "" : "_") + p;
  return joined;
}

std::uint64_t stable_hash(const std::string& text) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

std::string hash_name(const std::string& name) {
  static const std::vector<std::string> adjectives = {
      "Amber", "Brave", "Calm", "Dapper", "Eager", "Fuzzy", "Gentle", "Hasty", "Icy", "Jolly", "Keen",
      "Lucky", "Mellow", "Nimble", "Odd", "Proud", "Quiet", "Rapid", "Shy", "Tidy", "Upbeat", "Vivid",
      "Witty", "Young", "Zesty", "Bold", "Clever", "Daring", "Fierce", "Grumpy", "Humble", "Lively"};
  static const std::vector<std::string> gerunds = {
      "Baking", "Climbing", "Dancing", "Eating", "Floating", "Gliding", "Hopping", "Juggling", "Knitting",
      "Leaping", "Marching", "Napping", "Orbiting", "Painting", "Racing", "Singing", "Skating", "Sleeping",
      "Spinning", "Swimming", "Thinking", "Wandering", "Whistling", "Yodeling", "Zooming", "Rowing",
      "Diving", "Hiking", "Reading", "Sailing", "Surfing", "Waltzing"};
  static const std::vector<std::string> animals = {
      "Aardvark", "Badger", "Camel", "Dolphin", "Eagle", "Ferret", "Gecko", "Heron", "Ibex", "Jaguar",
      "Koala", "Lemur", "Marmot", "Narwhal", "Otter", "Panda", "Quokka", "Raccoon", "Salmon", "Tapir",
      "Urchin", "Vulture", "Walrus", "Yak", "Zebra", "Beaver", "Cobra", "Dingo", "Falcon", "Gorilla",
      "Hedgehog", "Lynx"};
  std::uint64_t h = stable_hash(name);
  const std::string a = adjectives[h % adjectives.size()];
  h /= adjectives.size();
  const std::string b = gerunds[h % gerunds.size()];
  h /= gerunds.size();
  return a + b + animals[h % animals.size()];
}

}  // namespace biggan::config
