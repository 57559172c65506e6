// The deadline a run stops before: Slurm's SLURM_JOB_END_TIME first, else ckpt.walltime_minutes
// from the job's start, else none. (tests/train/reliability_test.sh `deadline` runs the trainer
// into one.) Stop signals that arrive while a rank starts up.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <string>

#include "train/stop.h"

namespace biggan::train {
namespace {

class Deadline : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("SLURM_JOB_END_TIME"); }
  void TearDown() override { unsetenv("SLURM_JOB_END_TIME"); }
  double now() const { return static_cast<double>(std::time(nullptr)); }
};

TEST_F(Deadline, NoneWithoutSlurmOrWalltime) { EXPECT_TRUE(std::isinf(seconds_until_deadline(now(), 0))); }

TEST_F(Deadline, WalltimeCountsFromTheStart) {
  const double left = seconds_until_deadline(now() - 60, 2);
  EXPECT_GE(left, 58);
  EXPECT_LE(left, 61);
  EXPECT_LT(seconds_until_deadline(now() - 180, 2), 0);  // already past
}

TEST_F(Deadline, SlurmsEndTimeWinsOverWalltime) {
  setenv("SLURM_JOB_END_TIME", std::to_string(static_cast<long long>(now()) + 100).c_str(), 1);
  const double left = seconds_until_deadline(now(), 600);
  EXPECT_GE(left, 98);
  EXPECT_LE(left, 101);
  setenv("SLURM_JOB_END_TIME", "not-a-time", 1);  // unusable: the walltime decides
  EXPECT_NEAR(seconds_until_deadline(now(), 1), 60, 2);
}

// Each case runs in a child process (a death test): signal dispositions are process-wide.
TEST(StopSignals, AStopSignalDuringTheStartUpKillsARankThatDoesNotHoldIt) {
  EXPECT_EXIT(std::raise(SIGUSR2), ::testing::KilledBySignal(SIGUSR2), "");
}

TEST(StopSignals, AStopSignalHeldDuringTheStartUpIsHonouredOnceInstalled) {
  EXPECT_EXIT(
      {
        hold_stop_signals();
        std::raise(SIGUSR2);
        install_stop_signals(config::StopSignal::USR2);
        std::exit(stop_requested() && stop_signal_number() == SIGUSR2 ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

// Held, but not this run's stop signal: it takes its default action once the handlers are set,
// as it would have without the hold.
TEST(StopSignals, AnotherHeldSignalActsAsBeforeOnceInstalled) {
  EXPECT_EXIT(
      {
        hold_stop_signals();
        std::raise(SIGUSR1);
        install_stop_signals(config::StopSignal::USR2);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGUSR1), "");
  EXPECT_EXIT(
      {
        hold_stop_signals();
        install_stop_signals(config::StopSignal::USR2);
        std::raise(SIGHUP);
        std::exit(0);
      },
      ::testing::KilledBySignal(SIGHUP), "");
}

}  // namespace
}  // namespace biggan::train
