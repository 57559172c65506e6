#include "ckpt/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "io/h5_tensors.h"
#include "optim/adam.h"

namespace biggan::ckpt {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::atomic<int> g_pause_after_files{-1};
SaveStageHook& stage_hook() {
  static SaveStageHook hook;
  return hook;
}

std::string checkpoint_name(std::int64_t itr) {
  char name[32];
  std::snprintf(name, sizeof name, "itr%08lld", static_cast<long long>(itr));
  return name;
}

bool is_checkpoint_name(const std::string& name) {
  return name.size() == 11 && name.compare(0, 3, "itr") == 0 &&
         std::all_of(name.begin() + 3, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint32_t crc32_of_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open");
  std::vector<char> buffer(1 << 20);
  uLong crc = crc32(0L, Z_NULL, 0);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0) crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
  }
  return static_cast<std::uint32_t>(crc);
}

std::string hex32(std::uint32_t v) {
  char text[16];
  std::snprintf(text, sizeof text, "%08x", v);
  return text;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

// "20261201T083000Z": a suffix for folders set aside.
std::string compact_utc_time() {
  const std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
  return text;
}

// A free name beside `checkpoint_dir` for a folder set aside: "<dir>.<kind>-<UTC time>[-n]".
std::string aside_name(const std::string& checkpoint_dir, const std::string& kind) {
  const std::string base = checkpoint_dir + "." + kind + "-" + compact_utc_time();
  std::string name = base;
  for (int n = 1; fs::exists(name); ++n) name = base + "-" + std::to_string(n);
  return name;
}

void write_tensors(const std::string& path, const model::StateDict& tensors) {
  // The manifest's CRC-32 of every file checks these bytes already.
  io::H5File file(path, io::H5File::Mode::create, io::H5File::Checksums::covered_elsewhere);
  for (const auto& [key, t] : tensors) file.write(key, t);
  file.close();
}

void maybe_pause(int files_written) {
  if (g_pause_after_files.load() == files_written)
    while (true) std::this_thread::sleep_for(std::chrono::seconds(1));  // the test kills us here
}

json read_json(const std::string& path) {
  try {
    return json::parse(read_file(path));
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

struct IndexEntry {
  std::string name;
  std::int64_t itr;
  std::vector<std::string> roles;
};

// Refuses a file of a newer schema, naming both versions: skipping or rewriting it would lose
// what the newer build wrote.
void check_schema_version(const json& j, const std::string& path) {
  if (!j.contains("schema_version") || !j.at("schema_version").is_number_integer()) return;
  const int version = j.at("schema_version").get<int>();
  if (version > kSchemaVersion)
    throw NewerSchemaError(path + ": schema version " + std::to_string(version) + " is newer than this build's (" +
                           std::to_string(kSchemaVersion) + "); use the biggan that wrote it, nothing was changed or deleted");
}

std::vector<IndexEntry> read_index(const std::string& dir) {
  std::vector<IndexEntry> entries;
  const std::string path = dir + "/index.json";
  if (!fs::exists(path)) return entries;
  const json j = read_json(path);
  check_schema_version(j, path);
  try {
    for (const auto& e : j.at("checkpoints"))
      entries.push_back({e.at("name").get<std::string>(), e.at("itr").get<std::int64_t>(),
                         e.at("roles").get<std::vector<std::string>>()});
  } catch (const json::exception& e) {
    throw Error(path + ": malformed checkpoint index (" + std::string(e.what()) + ")");
  }
  return entries;
}

void write_index(const std::string& dir, const std::vector<IndexEntry>& entries) {
  json j;
  j["schema_version"] = kSchemaVersion;
  j["checkpoints"] = json::array();
  for (const auto& e : entries) j["checkpoints"].push_back({{"name", e.name}, {"itr", e.itr}, {"roles", e.roles}});
  write_file_atomically(dir + "/index.json", j.dump(2) + "\n");
}

// Gives checkpoint `name` the roles `roles` (taking each from whichever checkpoint held it, but
// "keep"), in `entries`. The same iteration saved again (a best checkpoint, then the periodic
// one) keeps its earlier roles, except an earlier slot of a ring it takes a new slot of: one
// checkpoint never holds two slots of one ring, or the ring collapses onto it.
void give_roles(std::vector<IndexEntry>& entries, const std::string& name, std::int64_t itr,
                std::vector<std::string> roles) {
  const auto ring_of = [](const std::string& role) { return role.substr(0, 4); };  // "copy" | "best"
  for (auto& e : entries)
    e.roles.erase(std::remove_if(e.roles.begin(), e.roles.end(),
                                 [&](const std::string& r) { return r != "keep" && std::count(roles.begin(), roles.end(), r); }),
                  e.roles.end());
  const auto own = roles;
  for (const auto& e : entries)
    if (e.name == name)
      for (const auto& r : e.roles) {
        const bool ring = r != "latest" && r != "keep";
        const bool same_ring = ring && std::any_of(own.begin(), own.end(), [&](const std::string& n) {
                                 return n != "latest" && n != "keep" && ring_of(n) == ring_of(r);
                               });
        if (!same_ring && !std::count(roles.begin(), roles.end(), r)) roles.push_back(r);
      }
  entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const IndexEntry& e) { return e.name == name; }),
                entries.end());
  entries.push_back({name, itr, roles});
}

// Writes the index, deletes the checkpoints that hold no role, then writes it without them.
// They stay listed, with no role, until they are gone: a process killed in between leaves them
// to the next start (delete_unreferenced), never on disk unknown to the index.
void commit_index(const std::string& dir, const std::vector<IndexEntry>& entries,
                  const std::function<void()>& between = {}) {
  write_index(dir, entries);
  if (between) between();
  std::vector<IndexEntry> kept;
  bool any_doomed = false;
  for (const auto& e : entries) {
    if (!e.roles.empty()) kept.push_back(e);
    else {
      fs::remove_all(dir + "/" + e.name);
      any_doomed = true;
    }
  }
  if (any_doomed) write_index(dir, kept);
}

}  // namespace

namespace {

torch::Tensor to_host(const torch::Tensor& t, model::StateDict& reuse, const std::string& key) {
  const torch::Tensor src = t.detach();
  const auto it = reuse.find(key);
  torch::Tensor dst;
  if (it != reuse.end() && it->second.sizes() == src.sizes() && it->second.scalar_type() == src.scalar_type() &&
      it->second.is_contiguous())
    dst = std::move(it->second);
  else
    dst = torch::empty(src.sizes(), src.options().device(torch::kCPU).pinned_memory(src.is_cuda()));
  dst.copy_(src);
  return dst;
}

}  // namespace

model::StateDict host_copy(const torch::nn::Module& net, model::StateDict reuse) {
  model::StateDict out;
  for (const auto& [key, t] : model::state_dict(net)) out[key] = to_host(t, reuse, key);
  return out;
}

model::StateDict adam_state(const torch::optim::Adam& optimizer, model::StateDict reuse) {
  model::StateDict out;
  const auto& params = optimizer.param_groups().at(0).params();
  const auto& state = optimizer.state();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto it = state.find(optim::state_key(params[i]));
    if (it == state.end()) continue;
    const auto& s = static_cast<const torch::optim::AdamParamState&>(*it->second);
    const std::string prefix = std::to_string(i) + ".";
    out[prefix + "step"] = torch::tensor(static_cast<std::int64_t>(s.step()), torch::kInt64);
    out[prefix + "exp_avg"] = to_host(s.exp_avg(), reuse, prefix + "exp_avg");
    out[prefix + "exp_avg_sq"] = to_host(s.exp_avg_sq(), reuse, prefix + "exp_avg_sq");
  }
  return out;
}

void restore_adam_state(torch::optim::Adam& optimizer, const model::StateDict& saved, const std::string& source) {
  const auto& params = optimizer.param_groups().at(0).params();
  auto& state = optimizer.state();
  state.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string prefix = std::to_string(i) + ".";
    const auto step = saved.find(prefix + "step");
    if (step == saved.end()) continue;  // a parameter that never had a step
    const auto avg_it = saved.find(prefix + "exp_avg");
    const auto avg_sq_it = saved.find(prefix + "exp_avg_sq");
    if (avg_it == saved.end() || avg_sq_it == saved.end())
      throw Error(source + ": optimizer state of parameter " + std::to_string(i) + " has a step but no " +
                  (avg_it == saved.end() ? "exp_avg" : "exp_avg_sq") + " (not Adam's state, or damaged)");
    const auto& avg = avg_it->second;
    const auto& avg_sq = avg_sq_it->second;
    if (avg.sizes() != params[i].sizes() || avg_sq.sizes() != params[i].sizes())
      throw Error(source + ": optimizer state of parameter " + std::to_string(i) + " has shape " +
                  c10::str(avg.sizes()) + ", the parameter " + c10::str(params[i].sizes()));
    auto s = std::make_unique<torch::optim::AdamParamState>();
    s->step(step->second.item<std::int64_t>());
    s->exp_avg(avg.to(params[i].device(), params[i].scalar_type()).clone());
    s->exp_avg_sq(avg_sq.to(params[i].device(), params[i].scalar_type()).clone());
    state[optim::state_key(params[i])] = std::move(s);
  }
  if (saved.size() != 3 * state.size())
    throw Error(source + ": optimizer state holds " + std::to_string(saved.size() / 3) + " parameters, the model " +
                std::to_string(params.size()));
}

std::string state_to_json(const TrainingState& s) {
  json j;
  j["schema_version"] = kSchemaVersion;
  j["itr"] = s.itr;
  j["epoch"] = s.epoch;
  j["save_num"] = s.save_num;
  j["save_best_num"] = s.save_best_num;
  j["best_IS"] = s.best_IS;
  j["best_FID"] = s.best_FID;
  j["best_metric"] = s.best_metric;
  j["sampler"] = {{"epoch", s.sampler.epoch},
                  {"position", s.sampler.position},
                  {"epoch_world_size", s.sampler.epoch_world_size},
                  {"samples_seen", s.sampler.samples_seen}};
  j["world_size"] = s.world_size;
  j["num_D_accumulations"] = s.num_D_accumulations;
  j["num_G_accumulations"] = s.num_G_accumulations;
  j["global_batch_size"] = s.global_batch_size;
  j["config_yaml"] = s.config_yaml;
  j["code_version"] = s.code_version;
  j["created"] = s.created;
  j["seconds_trained"] = s.seconds_trained;
  return j.dump(2) + "\n";
}

TrainingState state_from_json(const std::string& text, const std::string& source) {
  TrainingState s;
  try {
    const json j = json::parse(text);
    const int version = j.at("schema_version").get<int>();
    if (version > kSchemaVersion)
      throw NewerSchemaError(source + ": checkpoint schema version " + std::to_string(version) +
                             " is newer than this build's (" + std::to_string(kSchemaVersion) + ")");
    s.itr = j.at("itr").get<std::int64_t>();
    s.epoch = j.at("epoch").get<std::int64_t>();
    s.save_num = j.at("save_num").get<int>();
    s.save_best_num = j.at("save_best_num").get<int>();
    s.best_IS = j.at("best_IS").get<double>();
    s.best_FID = j.at("best_FID").get<double>();
    s.best_metric = j.value("best_metric", -1.0);
    const auto& sm = j.at("sampler");
    s.sampler.epoch = sm.at("epoch").get<std::int64_t>();
    s.sampler.position = sm.at("position").get<std::int64_t>();
    s.sampler.epoch_world_size = sm.at("epoch_world_size").get<std::int64_t>();
    s.sampler.samples_seen = sm.at("samples_seen").get<std::int64_t>();
    s.world_size = j.at("world_size").get<int>();
    s.num_D_accumulations = j.at("num_D_accumulations").get<int>();
    s.num_G_accumulations = j.at("num_G_accumulations").get<int>();
    s.global_batch_size = j.at("global_batch_size").get<std::int64_t>();
    s.config_yaml = j.at("config_yaml").get<std::string>();
    s.code_version = j.at("code_version").get<std::string>();
    s.created = j.at("created").get<std::string>();
    s.seconds_trained = j.value("seconds_trained", 0.0);
  } catch (const json::exception& e) {
    throw Error(source + ": malformed training state (" + std::string(e.what()) + ")");
  }
  return s;
}

Slots take_slots(TrainingState& state, bool best, const Retention& retention) {
  Slots slots;
  if (best) {
    slots.best = state.save_best_num;
    if (retention.num_best_copies > 0) state.save_best_num = (state.save_best_num + 1) % retention.num_best_copies;
  } else {
    slots.copy = state.save_num;
    if (retention.num_save_copies > 0) state.save_num = (state.save_num + 1) % retention.num_save_copies;
  }
  return slots;
}

void Writer::set_pause_after_files(int files) { g_pause_after_files = files; }
void Writer::set_stage_hook(SaveStageHook hook) { stage_hook() = std::move(hook); }

void Writer::stage(SaveStage s, const std::string& name, int files_written) const {
  if (s == SaveStage::file_written) maybe_pause(files_written);
  if (stage_hook()) stage_hook()(s, name);
}

Writer::Writer(std::string checkpoints_dir, Retention retention, bool async)
    : dir_(std::move(checkpoints_dir)), retention_(retention), async_(async) {
  // Crash-consistency tests stop the writer inside a save, then kill the process.
  if (const char* pause = std::getenv("BIGGAN_TEST_PAUSE_AFTER_FILES")) set_pause_after_files(std::atoi(pause));
  fs::create_directories(dir_);
  // A newer or malformed index stops the run now, before anything is written; checkpoints an
  // interrupted save had left without a role are deleted now, as it would have done.
  auto entries = read_index(dir_);
  if (std::any_of(entries.begin(), entries.end(), [](const IndexEntry& e) { return e.roles.empty(); }))
    commit_index(dir_, entries);
  for (const auto& entry : fs::directory_iterator(dir_))
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(entry.path());
}

Writer::~Writer() {
  try {
    wait();
  } catch (...) {
    // Already reported by the caller's wait(), or the process is ending on another error.
  }
}

void Writer::wait() {
  if (thread_.joinable()) thread_.join();
  if (error_) {
    auto error = error_;
    error_ = nullptr;
    std::rethrow_exception(error);
  }
}

Contents Writer::reclaim() {
  wait();
  return std::exchange(spare_, Contents{});
}

void Writer::save(Contents contents, Slots slots) {
  wait();  // at most one save in flight
  if (contents.state.created.empty()) contents.state.created = now_iso8601();
  if (!async_) {
    write(contents, slots);
    spare_ = std::move(contents);
    return;
  }
  spare_ = Contents{};
  thread_ = std::thread([this, c = std::move(contents), slots]() mutable {
    try {
      write(c, slots);
      spare_ = std::move(c);
    } catch (...) {
      error_ = std::current_exception();
    }
  });
}

void Writer::write(const Contents& c, Slots slots) {
  const auto start = std::chrono::steady_clock::now();
  const std::string name = checkpoint_name(c.state.itr);
  const std::string final_dir = dir_ + "/" + name;
  auto entries = read_index(dir_);
  // Always a fresh folder: one of the same name is either this writer's own earlier save of
  // the iteration (a best save, then the periodic one; its counters are stale), replaced, or
  // another process's, which is kept beside it: set aside as damaged, or as replaced.
  const std::string tmp = dir_ + "/.tmp-" + name + "-" + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::vector<std::string> files;
  const auto add = [&](const std::string& file, const model::StateDict& tensors) {
    write_tensors(tmp + "/" + file, tensors);
    files.push_back(file);
    stage(SaveStage::file_written, name, static_cast<int>(files.size()));
  };
  add("G.h5", c.G);
  add("D.h5", c.D);
  if (!c.G_ema.empty()) add("G_ema.h5", c.G_ema);
  add("G_optim.h5", c.G_optim);
  add("D_optim.h5", c.D_optim);
  add("rng.h5", {{"torch_default", c.rng}});
  write_file_atomically(tmp + "/state.json", state_to_json(c.state));
  files.push_back("state.json");
  // Roles: the newest is `latest`; the copies and best rings reuse their slots; keep_every
  // checkpoints stay forever. The manifest records them, so that a save killed after its folder
  // was renamed into place, but before index.json had it, is completed at the next start.
  std::vector<std::string> own_roles{"latest"};
  if (slots.copy >= 0 && retention_.num_save_copies > 0) own_roles.push_back("copy" + std::to_string(slots.copy));
  if (slots.best >= 0 && retention_.num_best_copies > 0) own_roles.push_back("best" + std::to_string(slots.best));
  if (retention_.keep_every > 0 && c.state.itr % retention_.keep_every == 0) own_roles.push_back("keep");
  json manifest;
  manifest["schema_version"] = kSchemaVersion;
  manifest["created"] = now_iso8601();
  manifest["itr"] = c.state.itr;
  manifest["roles"] = own_roles;
  manifest["files"] = json::object();
  for (const auto& f : files) {
    fsync_file(tmp + "/" + f);
    manifest["files"][f] = {{"bytes", fs::file_size(tmp + "/" + f)}, {"crc32", hex32(crc32_of_file(tmp + "/" + f))}};
  }
  write_file_atomically(tmp + "/manifest.json", manifest.dump(2) + "\n");
  fsync_directory(tmp);
  if (!fs::exists(final_dir)) {
    fs::rename(tmp, final_dir);
  } else {
    const bool own = written_.count(name) > 0;
    bool valid = false;
    if (!own) {
      try {
        valid = verify(final_dir).empty();
      } catch (const NewerSchemaError&) {
      }
    }
    const std::string aside = aside_name(final_dir, own ? "superseded" : valid ? "replaced" : "damaged");
    // Swapped in one step where the file system can (the old folder lands on the temporary
    // name), else moved aside first: at no moment is neither folder under a kept name.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) == 0) {
      fs::rename(tmp, aside);
    } else {
      fs::rename(final_dir, aside);
      fs::rename(tmp, final_dir);
    }
    if (own) fs::remove_all(aside);  // this writer's earlier save of the iteration: stale counters only
  }
  fsync_directory(dir_);
  written_.insert(name);
  stage(SaveStage::folder_renamed, name);

  give_roles(entries, name, c.state.itr, own_roles);
  write_file_atomically(dir_ + "/latest", name + "\n");
  stage(SaveStage::latest_written, name);
  commit_index(dir_, entries, [&] { stage(SaveStage::index_written, name); });
  last_write_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::string> verify(const std::string& dir) {
  std::vector<std::string> problems;
  const std::string manifest_path = dir + "/manifest.json";
  // A path that is no checkpoint at all gets said so, not reported as a damaged save.
  std::error_code ec;
  if (!fs::exists(dir, ec)) return {"no such folder"};
  if (!fs::is_directory(dir, ec)) return {"a file, not a checkpoint folder"};
  if (!fs::exists(manifest_path)) {
    const auto inside = list(dir);
    if (!inside.empty())
      return {"a folder of checkpoints, not one; give one of them (the newest is " +
              fs::path(inside.front()).filename().string() + ") or the run folder"};
    return {"manifest.json is missing (an incomplete save)"};
  }
  json manifest;
  try {
    manifest = json::parse(read_file(manifest_path));
    check_schema_version(manifest, manifest_path);
    for (const auto& [file, info] : manifest.at("files").items()) {
      const std::string path = dir + "/" + file;
      if (!fs::exists(path)) {
        problems.push_back(file + " is missing");
        continue;
      }
      if (fs::file_size(path) != info.at("bytes").get<std::uintmax_t>()) {
        problems.push_back(file + " has " + std::to_string(fs::file_size(path)) + " bytes, the manifest says " +
                           std::to_string(info.at("bytes").get<std::uintmax_t>()));
        continue;
      }
      if (hex32(crc32_of_file(path)) != info.at("crc32").get<std::string>())
        problems.push_back(file + " fails its CRC-32 check (damaged)");
    }
    for (const char* required : {"G.h5", "D.h5", "G_optim.h5", "D_optim.h5", "rng.h5", "state.json"})
      if (!manifest.at("files").contains(required)) problems.push_back(std::string(required) + " is not in the manifest");
  } catch (const json::exception& e) {
    problems.push_back("manifest.json is malformed (" + std::string(e.what()) + ")");
  } catch (const NewerSchemaError&) {
    throw;
  } catch (const Error& e) {
    problems.push_back(e.what());
  }
  if (problems.empty()) {
    try {
      state_from_json(read_file(dir + "/state.json"), dir + "/state.json");
    } catch (const NewerSchemaError&) {
      throw;
    } catch (const Error& e) {
      problems.push_back(e.what());
    }
  }
  return problems;
}

std::vector<std::string> list(const std::string& checkpoints_dir) {
  std::vector<std::string> out;
  if (!fs::is_directory(checkpoints_dir)) return out;
  for (const auto& entry : fs::directory_iterator(checkpoints_dir))
    if (entry.is_directory() && is_checkpoint_name(entry.path().filename().string())) out.push_back(entry.path().string());
  std::sort(out.rbegin(), out.rend());
  return out;
}

Contents load(const std::string& dir) {
  const auto problems = verify(dir);
  if (!problems.empty()) {
    std::string text;
    for (const auto& p : problems) text += "\n  " + p;
    throw Error(dir + ": not a valid checkpoint:" + text);
  }
  Contents c;
  c.state = state_from_json(read_file(dir + "/state.json"), dir + "/state.json");
  const auto read = [&](const std::string& file) { return io::H5File(dir + "/" + file, io::H5File::Mode::read).read_group("/"); };
  c.G = read("G.h5");
  c.D = read("D.h5");
  if (fs::exists(dir + "/G_ema.h5")) c.G_ema = read("G_ema.h5");
  c.G_optim = read("G_optim.h5");
  c.D_optim = read("D_optim.h5");
  // Schema 1 kept each rank's latent generator ("noise"); latents are now a function of the
  // counters, so that state has no use and is not read.
  const io::H5File rng(dir + "/rng.h5", io::H5File::Mode::read);
  if (rng.exists("torch_default")) c.rng = rng.read("torch_default");
  return c;
}

namespace {

// The first of `candidates` (newest first) that loads; the others before it are reported as
// damaged. A newer schema is never skipped.
std::optional<Loaded> first_valid(const std::vector<std::string>& candidates, const std::string& next_what,
                                  const std::function<void(const std::string&)>& warn) {
  for (const auto& dir : candidates) {
    try {
      return Loaded{dir, load(dir)};
    } catch (const NewerSchemaError&) {
      throw;
    } catch (const Error& e) {
      warn(std::string(e.what()) + "; trying the next older " + next_what);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<Loaded> load_newest_valid(const std::string& checkpoints_dir,
                                        const std::function<void(const std::string&)>& warn) {
  return first_valid(list(checkpoints_dir), "checkpoint", warn);
}

std::optional<Loaded> load_best_valid(const std::string& checkpoints_dir,
                                      const std::function<void(const std::string&)>& warn) {
  if (!fs::exists(checkpoints_dir + "/index.json")) return std::nullopt;
  std::set<std::string> best;
  for (const auto& e : read_index(checkpoints_dir))
    if (std::any_of(e.roles.begin(), e.roles.end(), [](const std::string& r) { return r.rfind("best", 0) == 0; }))
      best.insert(e.name);
  std::vector<std::string> candidates = list(checkpoints_dir);
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [&](const std::string& dir) { return !best.count(fs::path(dir).filename().string()); }),
                   candidates.end());
  return first_valid(candidates, "best checkpoint", warn);
}

namespace {

// The newest valid checkpoint missing from index.json (or not `latest`) is a save killed between
// renaming its folder into place and committing the index: finish what it would have done, with
// the roles its manifest records, so that the rings continue as in an uninterrupted run.
void complete_interrupted_save(const std::string& checkpoints_dir, const std::string& checkpoint) {
  const std::string name = fs::path(checkpoint).filename().string();
  auto entries = read_index(checkpoints_dir);
  const auto entry = std::find_if(entries.begin(), entries.end(), [&](const IndexEntry& e) { return e.name == name; });
  if (entry != entries.end() && std::count(entry->roles.begin(), entry->roles.end(), "latest")) return;
  const json manifest = read_json(checkpoint + "/manifest.json");
  std::vector<std::string> roles{"latest"};  // indexed already (newer ones were set aside): only `latest` moves
  if (entry == entries.end() && manifest.contains("roles")) roles = manifest.at("roles").get<std::vector<std::string>>();
  give_roles(entries, name, manifest.at("itr").get<std::int64_t>(), roles);
  write_file_atomically(checkpoints_dir + "/latest", name + "\n");
  commit_index(checkpoints_dir, entries);
}

}  // namespace

std::string set_aside_damaged(const std::string& checkpoint_dir) {
  const fs::path path(checkpoint_dir);
  const std::string dir = path.parent_path().string(), name = path.filename().string();
  const std::string target = aside_name(checkpoint_dir, "damaged");
  fs::rename(checkpoint_dir, target);
  fsync_directory(dir);
  auto entries = read_index(dir);
  const auto before = entries.size();
  entries.erase(std::remove_if(entries.begin(), entries.end(), [&](const IndexEntry& e) { return e.name == name; }),
                entries.end());
  if (entries.size() != before) write_index(dir, entries);
  return target;
}

std::optional<std::vector<std::string>> indexed_roles(const std::string& checkpoint_dir) {
  const fs::path path(checkpoint_dir);
  const std::string dir = path.parent_path().string();
  if (!fs::exists(dir + "/index.json")) return std::vector<std::string>{};
  for (const auto& e : read_index(dir))
    if (e.name == path.filename().string()) return e.roles;
  return std::nullopt;
}

namespace {

// An index.json that no longer reads (we write it atomically: damaged on disk or by hand) would
// stop every start of a self-requeueing job. It is kept aside instead, and the run goes on as
// with no index: the checkpoint it resumes from gets its roles from its manifest, and the
// others, no longer indexed, are kept (no ring removes a checkpoint it does not list).
void set_aside_damaged_index(const std::string& checkpoints_dir, const std::function<void(const std::string&)>& warn) {
  if (!fs::is_directory(checkpoints_dir)) return;
  try {
    read_index(checkpoints_dir);
  } catch (const NewerSchemaError&) {
    throw;  // a newer build's index: refuse the run, change nothing
  } catch (const Error& e) {
    const std::string index = checkpoints_dir + "/index.json";
    const std::string kept = aside_name(index, "damaged");
    fs::rename(index, kept);
    fsync_directory(checkpoints_dir);
    warn(std::string(e.what()) + "; kept as " + kept +
         ". The checkpoints stay; those the index listed are no longer part of the copies and best rings");
  }
}

}  // namespace

std::string choose_resume_checkpoint(const std::string& checkpoints_dir,
                                     const std::function<void(const std::string&)>& warn) {
  set_aside_damaged_index(checkpoints_dir, warn);
  for (const auto& dir : list(checkpoints_dir)) {
    const auto problems = verify(dir);  // NewerSchemaError goes up: refuse, delete nothing
    if (problems.empty()) {
      complete_interrupted_save(checkpoints_dir, dir);
      return dir;
    }
    std::string text;
    for (const auto& p : problems) text += "; " + p;
    const std::string kept = set_aside_damaged(dir);
    warn(dir + ": not a valid checkpoint" + text + "; kept as " + kept + ", trying the next older checkpoint");
  }
  return "";
}

}  // namespace biggan::ckpt
