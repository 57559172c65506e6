// The run lock: one holder at a time, a stale lock taken over, a live holder on another host
// (its Slurm job still running) refused with its name, a torn lock file treated as free.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

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
    o.job_state = [job_running](const std::string&) {
      return job_running ? SlurmJobState::running : SlurmJobState::finished;
    };
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

// A hand-edited lock file whose job is no Slurm job id: nothing to ask squeue, so the free flock
// decides, as for a holder without a job.
TEST_F(RunLockTest, AJobIdThatIsNoSlurmJobIdIsNotAsked) {
  std::vector<std::string> warnings;
  write_holder("node07", 77, "12;x");
  auto o = options(true, &warnings);
  o.job_state = [](const std::string& id) -> SlurmJobState {
    throw Error("asked squeue about '" + id + "'");
  };
  const RunLock lock(dir.string(), o);
  EXPECT_EQ(read_lock_holder((dir / "run.lock").string()).pid, ::getpid());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("taking over the stale run lock of PID 77 on node07"), std::string::npos) << warnings[0];
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

// slurm_job_state against a stand-in squeue first on PATH.
class SqueueTest : public testing::TempFolderTest {
 protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    old_path_ = std::getenv("PATH");
    setenv("PATH", (dir.string() + ":" + old_path_).c_str(), 1);
  }
  void TearDown() override {
    setenv("PATH", old_path_.c_str(), 1);
    TempFolderTest::TearDown();
  }
  void squeue(const std::string& body) {
    const fs::path script = dir / "squeue";
    std::ofstream(script) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(script, fs::perms::owner_all);
  }

 private:
  std::string old_path_;
};

TEST_F(SqueueTest, StatesAreReadFromSqueue) {
  squeue("echo RUNNING");
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::running);
  squeue("echo PENDING");
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::running);
  squeue("echo CANCELLED by 0");
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::finished);
  squeue("exit 0");  // no longer listed
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::finished);
  squeue("echo 'slurm_load_jobs error: Invalid job id specified' >&2; exit 1");
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::finished);
  fs::remove(dir / "squeue");
  setenv("PATH", dir.c_str(), 1);  // no squeue anywhere
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::no_squeue);
  EXPECT_THROW(slurm_job_state("12; rm -rf x"), Error);
}

// No controller: asked again, and when it never answers the lock is not taken over.
TEST_F(SqueueTest, ANoAnswerIsAskedAgainAndThenRefusesTheTakeOver) {
  squeue("echo x >>" + (dir / "calls").string() +
         "; echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2; exit 1");
  EXPECT_EQ(slurm_job_state("12", 3, 0.01), SlurmJobState::no_answer);
  std::ifstream calls(dir / "calls");
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(calls), std::istreambuf_iterator<char>(), 'x'), 3);

  const fs::path run = dir / "run";
  fs::create_directories(run);
  write_file_atomically((run / "run.lock").string(),
                        "{\"host\":\"node07\",\"pid\":77,\"job_id\":\"123\",\"since\":\"2026-01-01T00:00:00Z\"}\n");
  LockOptions o;
  o.job_state = [](const std::string& id) { return slurm_job_state(id, 2, 0.01); };
  try {
    const RunLock lock(run.string(), o);
    FAIL() << "a lock whose job squeue could not answer for was taken over";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find((run / "run.lock").string() + " names PID 77 on node07 (Slurm job 123"), std::string::npos) << m;
    EXPECT_NE(m.find("squeue could not say whether job 123 still runs"), std::string::npos) << m;
    EXPECT_NE(m.find("(remove " + (run / "run.lock").string() + " only if you are sure that job 123 has ended)"),
              std::string::npos)
        << m;
  }
  EXPECT_EQ(read_lock_holder((run / "run.lock").string()).pid, 77);  // untouched
}

// mpirun and slurmstepd signal a rank's whole process group: squeue, then running, must not die
// of the trainer's stop signal and so answer "finished" for a live job.
extern "C" void ignore_in_test(int) {}
TEST_F(SqueueTest, AStopSignalToTheProcessGroupDoesNotKillSqueue) {
  // A handler, not SIG_IGN: handlers are reset by exec, an ignored signal would stay ignored.
  struct sigaction action {}, previous {};
  action.sa_handler = ignore_in_test;
  sigaction(SIGUSR2, &action, &previous);
  squeue("kill -USR2 $$; echo RUNNING");  // no sleep: dash unblocks signals while it waits for a child
  EXPECT_EQ(slurm_job_state("12"), SlurmJobState::running);
  sigaction(SIGUSR2, &previous, nullptr);
}

}  // namespace
}  // namespace biggan::run
