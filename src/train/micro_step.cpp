#include "train/micro_step.h"

namespace biggan::train {

namespace {

std::uint64_t splitmix(std::uint64_t h, std::uint64_t v) {
  h += 0x9e3779b97f4a7c15ULL + v;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

}  // namespace

std::string MicroStep::tag() const {
  switch (phase) {
    case Phase::D: return "D_step" + std::to_string(step) + "_acc" + std::to_string(acc);
    case Phase::G: return "G_acc" + std::to_string(acc);
  }
  return "";
}

std::int64_t global_slot(const MicroStep& m, int rank, int D_accumulations, int G_accumulations) {
  const int accumulations = m.phase == MicroStep::Phase::G ? G_accumulations : D_accumulations;
  return static_cast<std::int64_t>(rank) * accumulations + m.acc;
}

std::uint64_t micro_step_seed(int seed, std::int64_t itr, const MicroStep& m, std::int64_t slot) {
  std::uint64_t h = static_cast<std::uint64_t>(seed);
  for (const std::uint64_t v : {static_cast<std::uint64_t>(itr), static_cast<std::uint64_t>(m.phase),
                                static_cast<std::uint64_t>(m.step), static_cast<std::uint64_t>(slot)})
    h = splitmix(h, v);
  return h;
}

std::uint64_t derived_seed(std::uint64_t seed, std::uint64_t purpose) { return splitmix(seed, purpose); }

}  // namespace biggan::train
