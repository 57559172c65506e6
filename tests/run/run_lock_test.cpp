// The run lock: one holder at a time, a stale lock taken over, a live holder on another host
// (its Slurm job still running) refused with its name, a torn lock file treated as free.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "run/run_lock.h"
#include "../temp_folder.h"

namespace biggan::run {
namespace {

namespace fs = std::filesystem;

class RunLockTest : public testing::TempFolderTest {
 protected:
  void write_holder(const std::string& host, long pid, const std::string& job) {
    write_file_atomically((dir / "run.lock").string(), "{\"host\":\"" + host + "\",\"pid\":" + std::to_string(pid) +
                                                           ",\"job_id\":\"" + job + "\",\"since\":\"2026-01-01T00:00:00Z\"}\n");
  }
  LockOptions options(bool job_running, std::vector<std::string>* warnings) {
    LockOptions o;
    o.job_is_running = [job_running](const std::string&) { return job_running; };
    o.warn = [warnings](const std::string& w) { warnings->push_back(w); };
    o.same_job_wait_seconds = 0;
    return o;
  }
};

TEST_F(RunLockTest, ASecondHolderInAnotherProcessIsRefusedWithTheFirstsName) {
  std::vector<std::string> warnings;
  const RunLock lock(dir.string(), options(false, &warnings));
  EXPECT_EQ(read_lock_holder((dir / "run.lock").string()).pid, ::getpid());
  // flock is per open file: a child process trying it meets the lock.
  const pid_t child = fork();
  if (child == 0) {
    try {
      std::vector<std::string> w;
      RunLock again(dir.string(), options(false, &w));
      _exit(1);
    } catch (const Error& e) {
      const std::string m = e.what();
      _exit(m.find("in use by PID " + std::to_string(::getppid())) != std::string::npos ? 0 : 2);
    }
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child exit " << WEXITSTATUS(status);
}

TEST_F(RunLockTest, StaleLocksAreTakenOverWithAWarning) {
  std::vector<std::string> warnings;
  write_holder("node-that-crashed", 4242, "");  // another host, no job to ask, flock free
  { const RunLock lock(dir.string(), options(false, &warnings)); }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("taking over the stale run lock of PID 4242 on node-that-crashed"), std::string::npos);
  // Released on destruction: an empty file names nobody.
  EXPECT_TRUE(read_lock_holder((dir / "run.lock").string()).empty());
  write_holder("node07", 77, "123");  // its Slurm job has ended
  warnings.clear();
  { const RunLock lock(dir.string(), options(false, &warnings)); }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("PID 77 on node07 (Slurm job 123"), std::string::npos) << warnings[0];
  // A file torn by a crash mid-write names nobody either.
  write_file_atomically((dir / "run.lock").string(), "{\"host\":\"x\",\"pi");
  warnings.clear();
  { const RunLock lock(dir.string(), options(false, &warnings)); }
  EXPECT_TRUE(warnings.empty());
}

TEST_F(RunLockTest, AHolderOnAnotherHostWithARunningJobIsRefused) {
  std::vector<std::string> warnings;
  write_holder("node07", 77, "123");
  try {
    const RunLock lock(dir.string(), options(true, &warnings));
    FAIL() << "a live holder's lock was taken";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("run folder " + dir.string() + " in use by PID 77 on node07 (Slurm job 123"), std::string::npos) << m;
  }
  EXPECT_EQ(read_lock_holder((dir / "run.lock").string()).pid, 77);  // untouched
}

// A requeued job's new step starts while its previous step still saves: the lock of its own
// Slurm job is waited for (here 1 s), not refused.
TEST_F(RunLockTest, TheSameSlurmJobsPreviousStepIsWaitedFor) {
  setenv("SLURM_JOB_ID", "4242", 1);
  const pid_t child = fork();
  if (child == 0) {
    std::vector<std::string> w;
    const RunLock lock(dir.string(), options(false, &w));
    sleep(1);
    _exit(0);
  }
  for (int i = 0; i < 200 && read_lock_holder((dir / "run.lock").string()).pid != child; ++i) usleep(10000);
  ASSERT_EQ(read_lock_holder((dir / "run.lock").string()).pid, child);
  std::vector<std::string> warnings;
  auto o = options(false, &warnings);
  o.same_job_wait_seconds = 30;
  {
    const RunLock lock(dir.string(), o);
    EXPECT_EQ(read_lock_holder((dir / "run.lock").string()).pid, ::getpid());
  }
  waitpid(child, nullptr, 0);
  unsetenv("SLURM_JOB_ID");
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings[0].find("waiting for the previous step of job 4242"), std::string::npos) << warnings[0];
}

}  // namespace
}  // namespace biggan::run
