// One training process per run folder: rank 0 holds an exclusive lock on <run>/run.lock for the
// whole run. The lock is an flock (released by the kernel when the holder dies, coherent across
// nodes on NFS and on Lustre mounted with -o flock) plus the holder's host, PID and Slurm job in
// the file, which names it in the error and decides, where flock cannot, whether it is stale.
#pragma once

#include <functional>
#include <string>

namespace biggan::run {

struct LockHolder {
  std::string host;
  long pid = 0;
  std::string job_id;  // SLURM_JOB_ID, "" outside Slurm
  std::string since;   // ISO 8601 UTC
  bool empty() const { return host.empty() && pid == 0; }
  std::string describe() const;  // "PID 123 on node07 (Slurm job 42, since 2026-...)"
};

// What squeue says of the job named in a lock file. A job squeue no longer lists (or calls an
// invalid id) is finished; one it cannot answer for (no controller) is neither.
enum class SlurmJobState { running, finished, no_squeue, no_answer };

struct LockOptions {
  // A holder with our own Slurm job id is the previous step of a requeued job, still saving:
  // waited for up to this long. Any other live holder is an error at once.
  double same_job_wait_seconds = 600;
  // The state of another Slurm job (slurm_job_state by default); tests replace it.
  std::function<SlurmJobState(const std::string& job_id)> job_state;
  std::function<void(const std::string&)> warn;
};

class RunLock {
 public:
  // Takes the lock on `run_dir` (created if missing) or throws Error
  // "run folder X in use by PID N on HOST ...". A stale lock (holder gone: flock free and, on
  // another host, its Slurm job no longer running) is taken over with a warning.
  RunLock(const std::string& run_dir, LockOptions options);
  ~RunLock();  // empties the file and releases the lock
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

LockHolder read_lock_holder(const std::string& lock_file);
// squeue -h -j ID -o %T: running for RUNNING, PENDING, COMPLETING, SUSPENDED and the like;
// finished for a finished state or a job squeue no longer knows; no_squeue where squeue is not
// installed; no_answer where it failed `tries` times, `pause_seconds` apart (the controller
// unreachable). The stop signals are blocked in squeue, so a signal to the process group (as
// mpirun and slurmstepd send it) cannot kill it and turn a live job into a finished one.
// Throws Error for a job id of other than letters, digits and '_'.
SlurmJobState slurm_job_state(const std::string& job_id, int tries = 3, double pause_seconds = 2);

}  // namespace biggan::run
