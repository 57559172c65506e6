#include "run/run_lock.h"

#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::run {

namespace fs = std::filesystem;

namespace {

std::string this_host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

std::string this_job() {
  const char* id = std::getenv("SLURM_JOB_ID");
  return id ? id : "";
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

bool process_exists(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// Digits, letters and '_' (array jobs): what squeue -j takes, and what a lock file written by
// biggan holds; anything else is a hand-edited or damaged file, with no job to ask.
bool is_slurm_job_id(const std::string& id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

struct CommandResult {
  bool started = false;  // false: no such program on PATH (or it could not be started)
  std::string output;    // stdout and stderr
  int wait_status = -1;
};

// Runs `argv` (found on PATH, no shell between: a shell would unblock the signals for its
// children) with the stop signals blocked in it: mpirun and slurmstepd signal a rank's whole
// process group, and a squeue killed by the trainer's stop signal would say a live job is gone.
CommandResult run_with_stop_signals_blocked(const std::vector<std::string>& argv) {
  CommandResult result;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  for (const int s : {SIGUSR1, SIGUSR2, SIGHUP}) sigaddset(&mask, s);
  posix_spawnattr_setsigmask(&attributes, &mask);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  result.started = ::posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ) == 0;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(pipe_fds[1]);
  if (result.started) {
    char buffer[256];
    ssize_t n = 0;
    while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR))
      if (n > 0) result.output.append(buffer, static_cast<size_t>(n));
    while (::waitpid(pid, &result.wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  ::close(pipe_fds[0]);
  return result;
}

}  // namespace

std::string LockHolder::describe() const {
  std::string text = "PID " + std::to_string(pid) + " on " + (host.empty() ? "an unknown host" : host);
  if (!job_id.empty()) text += " (Slurm job " + job_id + (since.empty() ? "" : ", since " + since) + ")";
  else if (!since.empty()) text += " (since " + since + ")";
  return text;
}

LockHolder read_lock_holder(const std::string& lock_file) {
  LockHolder h;
  std::string text;
  try {
    text = read_file(lock_file);
  } catch (const Error&) {
    return h;
  }
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return h;  // empty (released) or torn by a crash mid-write: nobody
  h.host = j.value("host", "");
  h.pid = j.value("pid", 0L);
  h.job_id = j.value("job_id", "");
  h.since = j.value("since", "");
  return h;
}

SlurmJobState slurm_job_state(const std::string& job_id, int tries, double pause_seconds) {
  if (!is_slurm_job_id(job_id)) throw Error("slurm_job_state: '" + job_id + "' is not a Slurm job id");
  for (int attempt = 1;; ++attempt) {
    const CommandResult r = run_with_stop_signals_blocked({"squeue", "-h", "-j", job_id, "-o", "%T"});
    if (!r.started) return SlurmJobState::no_squeue;
    const bool exited = WIFEXITED(r.wait_status);
    if (exited && WEXITSTATUS(r.wait_status) == 0) {
      const std::string state = r.output.substr(0, r.output.find('\n'));
      if (state.empty()) return SlurmJobState::finished;
      for (const char* done : {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL",
                               "OUT_OF_MEMORY", "DEADLINE"})
        if (state.rfind(done, 0) == 0) return SlurmJobState::finished;
      return SlurmJobState::running;
    }
    if (exited && r.output.find("Invalid job id") != std::string::npos) return SlurmJobState::finished;
    if (attempt >= tries) return SlurmJobState::no_answer;
    std::this_thread::sleep_for(std::chrono::duration<double>(pause_seconds));
  }
}

RunLock::RunLock(const std::string& run_dir, LockOptions options) : path_(run_dir + "/run.lock") {
  if (!options.job_state) options.job_state = [](const std::string& id) { return slurm_job_state(id); };
  if (!options.warn) options.warn = [](const std::string&) {};
  std::error_code ec;
  fs::create_directories(run_dir, ec);
  if (ec) throw Error("cannot create run folder " + run_dir + ": " + ec.message());
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path_ + ": cannot open the run lock (" + std::strerror(errno) + ")");
  const std::string host = this_host(), job = this_job();
  const std::string in_use = "run folder " + run_dir + " in use by ";
  const auto give_up = [&](const std::string& message) {
    ::close(fd_);
    fd_ = -1;
    throw Error(message);
  };

  // 1. The flock. Busy means a live holder; our own job's previous step is waited for.
  bool flock_works = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options.same_job_wait_seconds);
  bool said_waiting = false;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) {
      const LockHolder holder = read_lock_holder(path_);
      if (!job.empty() && holder.job_id == job && std::chrono::steady_clock::now() < deadline) {
        if (!said_waiting) options.warn("waiting for the previous step of job " + job + " (" + holder.describe() +
                                        ") to release " + path_);
        said_waiting = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      give_up(in_use + (holder.empty() ? "another process (its details are not written yet)" : holder.describe()) +
              "; one run folder takes one training job at a time (give this run its own folder with "
              "--set paths.experiment_name=NAME)");
    }
    if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL) {
      flock_works = false;  // a file system without flock (Lustre without -o flock): the file decides alone
      break;
    }
    give_up(path_ + ": cannot lock (" + std::string(std::strerror(errno)) + ")");
  }

  // 2. The file may still name an earlier holder: stale unless it can be shown to live.
  const LockHolder holder = read_lock_holder(path_);
  const bool ours = holder.host == host && holder.pid == static_cast<long>(::getpid());
  if (!holder.empty() && !ours) {
    bool live = false;
    if (holder.host == host) live = !flock_works && process_exists(holder.pid);
    else if (is_slurm_job_id(holder.job_id) && holder.job_id != job) {
      switch (options.job_state(holder.job_id)) {
        case SlurmJobState::running: live = true; break;
        case SlurmJobState::finished: live = false; break;
        case SlurmJobState::no_squeue: live = !flock_works; break;  // as with no job to ask
        case SlurmJobState::no_answer:
          // Taken over, a live job would write into the same folder: better a job that stops.
          give_up(path_ + " names " + holder.describe() + ", and squeue could not say whether job " + holder.job_id +
                  " still runs (no answer from the Slurm controller); not taking the run folder over (remove " + path_ +
                  " only if you are sure that job " + holder.job_id + " has ended)");
      }
    } else {
      live = !flock_works;  // another host, no job to ask: only a working flock proves it gone
    }
    if (live)
      give_up(in_use + holder.describe() + " (remove " + path_ + " only if you are sure that no process uses the folder)");
    options.warn("taking over the stale run lock of " + holder.describe() + ": that process is gone");
  }

  // 3. Ours now: host, PID and job for the next one to read.
  const std::string text = nlohmann::json{{"host", host}, {"pid", static_cast<long>(::getpid())}, {"job_id", job},
                                          {"since", now_iso8601()}}
                               .dump() +
                           "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()) ||
      ::fsync(fd_) != 0)
    give_up(path_ + ": cannot write the run lock (" + std::string(std::strerror(errno)) + ")");
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  // Emptied, not removed: removing a locked file lets a second process lock a new inode.
  if (::ftruncate(fd_, 0) == 0) ::fsync(fd_);
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace biggan::run
