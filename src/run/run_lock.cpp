#include "run/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

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

bool slurm_job_is_running(const std::string& job_id) {
  if (job_id.empty()) return false;
  for (const char c : job_id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  FILE* pipe = ::popen(("squeue -h -j " + job_id + " -o %T 2>/dev/null").c_str(), "r");
  if (!pipe) return false;
  char line[128] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  ::pclose(pipe);
  if (!got) return false;
  const std::string state(line);
  for (const char* done : {"COMPLETED", "CANCELLED", "FAILED", "TIMEOUT", "PREEMPTED", "NODE_FAIL", "BOOT_FAIL",
                           "OUT_OF_MEMORY", "DEADLINE"})
    if (state.rfind(done, 0) == 0) return false;
  return !state.empty() && state != "\n";
}

RunLock::RunLock(const std::string& run_dir, LockOptions options) : path_(run_dir + "/run.lock") {
  if (!options.job_is_running) options.job_is_running = slurm_job_is_running;
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
    else if (!holder.job_id.empty() && holder.job_id != job) live = options.job_is_running(holder.job_id);
    else live = !flock_works;  // another host, no job to ask: only a working flock proves it gone
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
