// Checkpoints: one folder per checkpoint under <run>/checkpoints/, written into a temporary
// folder, fsynced, renamed into place, and only then pointed to by `latest` and index.json.
// Layout and JSON Schemas: checkpoints-schema/README.md.
//
//   itr00001200/
//     G.h5 D.h5 [G_ema.h5]         one dataset per state_dict key (BigGAN-PyTorch names)
//     G_optim.h5 D_optim.h5        Adam state by parameter index: "<i>.exp_avg", "<i>.exp_avg_sq", "<i>.step"
//     rng.h5                       "torch_default": every rank's default CPU generator (world x bytes)
//     state.json                   counters, sampler state, world size, accumulations, config, version
//     manifest.json                written last: schema version, each file's size and CRC-32
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "data/index_order.h"
#include "model/state_dict.h"

namespace biggan::ckpt {

constexpr int kSchemaVersion = 2;

struct TrainingState {
  std::int64_t itr = 0;
  std::int64_t epoch = 0;
  int save_num = 0;        // next slot of the copies ring (BigGAN-PyTorch's save_num)
  int save_best_num = 0;   // next slot of the best ring
  double best_IS = 0;
  double best_FID = 999999;
  double best_metric = -1;  // the demo's classifier metric (higher is better); -1: none yet
  data::IndexOrderState sampler;
  int world_size = 1;
  int num_D_accumulations = 1;
  int num_G_accumulations = 1;
  std::int64_t global_batch_size = 0;
  std::string config_yaml;
  std::string code_version;
  std::string created;  // ISO 8601 UTC
  double seconds_trained = 0;  // wall time spent training, over all restarts
};

// Everything a checkpoint holds, in host memory.
struct Contents {
  TrainingState state;
  model::StateDict G, D, G_ema;
  model::StateDict G_optim, D_optim;
  torch::Tensor rng;  // uint8 (world, bytes); undefined when read from a schema-1 checkpoint
};

// Host copies of a network's state_dict and of Adam's state (training may go on changing the
// originals). Tensors of `reuse` (the buffers of the previous save, from Writer::reclaim) with
// the same key, shape and dtype are copied into: memory that is already mapped copies about
// 2.5x faster than fresh memory, which is most of the stall an asynchronous save costs. From
// CUDA, fresh buffers are pinned.
model::StateDict host_copy(const torch::nn::Module& net, model::StateDict reuse = {});
model::StateDict adam_state(const torch::optim::Adam& optimizer, model::StateDict reuse = {});
void restore_adam_state(torch::optim::Adam& optimizer, const model::StateDict& state, const std::string& source);

std::string state_to_json(const TrainingState& state);
TrainingState state_from_json(const std::string& text, const std::string& source);

// Roles that keep a checkpoint alive (BigGAN-PyTorch's retention): "latest", "copy<k>",
// "best<k>", "keep" (every keep_every iterations).
struct Retention {
  int num_save_copies = 2;
  int num_best_copies = 2;
  int keep_every = 0;
};

// The ring slots a save takes (BigGAN-PyTorch's `_copy<k>` / `_best<k>`); -1: none.
struct Slots {
  int copy = -1;
  int best = -1;
};

// The slots of the next save, periodic or best, and the counters moved on past them before the
// state is stored: a resumed run continues with the slot after its checkpoint's (the original
// stores the slot just written, and a resumed run overwrote its newest copy).
Slots take_slots(TrainingState& state, bool best, const Retention& retention);

// A checkpoint, index or manifest written by a newer build: never skipped, never deleted; the
// run refuses to go on until a build that reads it is used.
class NewerSchemaError : public Error {
 public:
  using Error::Error;
};

// Stages of a save, in order, for fault-injection tests: a hook that throws at a stage leaves
// the folder as a process killed there would.
enum class SaveStage { file_written, folder_renamed, latest_written, index_written };
using SaveStageHook = std::function<void(SaveStage stage, const std::string& checkpoint)>;

class Writer {
 public:
  // Cleans up stale temporary folders of interrupted saves. Rank 0 only.
  Writer(std::string checkpoints_dir, Retention retention, bool async);
  ~Writer();  // waits for a save in flight
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Writes `contents` under itr<N> as `latest`, in the ring slots given (and `keep` every
  // keep_every iterations). Async: returns once a previous save has finished and this one is queued.
  void save(Contents contents, Slots slots);
  // Waits for the save in flight; rethrows its error.
  void wait();
  // Waits for the save in flight and hands back its host buffers for the next save's copies
  // (empty before the first save).
  Contents reclaim();
  double last_write_seconds() const { return last_write_seconds_; }

  // Test hook: when set, the writer pauses after writing this many files (for crash tests).
  static void set_pause_after_files(int files);
  // Test hook: called at every stage of every save (fault injection); empty: none.
  static void set_stage_hook(SaveStageHook hook);

 private:
  void write(const Contents& contents, Slots slots);
  void stage(SaveStage stage, const std::string& name, int files_written = 0) const;

  std::string dir_;
  std::set<std::string> written_;  // checkpoint names this writer wrote (replaced in place when saved again)
  Retention retention_;
  bool async_;
  std::thread thread_;
  std::exception_ptr error_;
  Contents spare_;  // the last written contents, kept for reclaim()
  std::atomic<double> last_write_seconds_{0};
};

struct Loaded {
  std::string path;
  Contents contents;
};

// Problems with one checkpoint folder (missing or damaged files, bad manifest); empty: valid.
// Throws NewerSchemaError for a checkpoint of a newer schema, naming both versions.
std::vector<std::string> verify(const std::string& checkpoint_dir);
// Renames a damaged checkpoint folder to "<name>.damaged-<UTC time>" (kept, never deleted, no
// longer listed) and drops it from index.json; returns the new path.
std::string set_aside_damaged(const std::string& checkpoint_dir);
// Checkpoint folders, newest first (temporary ones excluded).
std::vector<std::string> list(const std::string& checkpoints_dir);
// Loads one checkpoint after verifying it; throws Error listing its problems.
Contents load(const std::string& checkpoint_dir);
// The newest valid checkpoint; damaged ones are reported through `warn` and skipped.
std::optional<Loaded> load_newest_valid(const std::string& checkpoints_dir,
                                        const std::function<void(const std::string&)>& warn);
// The best checkpoint: the newest valid one that index.json gives a role of the best ring
// ("best<k>"). Each new best is saved after, and scores above, every earlier one, so the newest
// is the best kept. Damaged ones are reported through `warn` and skipped; nullopt when none.
std::optional<Loaded> load_best_valid(const std::string& checkpoints_dir,
                                      const std::function<void(const std::string&)>& warn);
// The roles index.json gives a checkpoint ("latest", "copy0", "best1", ...): empty when the
// folder has no index, nullopt when the index does not list it. Throws Error naming index.json
// when it cannot be read.
std::optional<std::vector<std::string>> indexed_roles(const std::string& checkpoint_dir);
// The path of the newest valid checkpoint ("" when none) for a run to resume from. Damaged ones
// are reported through `warn` and set aside (set_aside_damaged), so that no role of the copies
// or best rings stays on them; a damaged index.json is set aside too (its checkpoints stay). A
// newer-schema checkpoint or index throws NewerSchemaError. Rank 0 decides this for every rank.
std::string choose_resume_checkpoint(const std::string& checkpoints_dir,
                                     const std::function<void(const std::string&)>& warn);

}  // namespace biggan::ckpt
