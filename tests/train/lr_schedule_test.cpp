#include "train/lr_schedule.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace biggan::train {
namespace {

using config::LrSchedule;

TEST(LrSchedule, ConstantKeepsTheConfiguredRates) {
  for (const std::int64_t itr : {1, 500, 1250}) EXPECT_EQ(learning_rate_factor(LrSchedule::constant, 0, itr, 1250), 1.0);
}

TEST(LrSchedule, LinearDecayHoldsThenFallsByEqualStepsToTheLastIteration) {
  // 1,250 iterations, decay after 750: 500 decaying iterations.
  EXPECT_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1, 1250), 1.0);
  EXPECT_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 750, 1250), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 751, 1250), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1000, 1250), 251.0 / 500.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1250, 1250), 1.0 / 500.0);
  double previous = 1.0;
  for (std::int64_t itr = 752; itr <= 1250; ++itr) {
    const double f = learning_rate_factor(LrSchedule::linear_decay, 750, itr, 1250);
    EXPECT_NEAR(previous - f, 1.0 / 500.0, 1e-12) << "iteration " << itr;
    EXPECT_GT(f, 0.0);
    previous = f;
  }
  // From the first iteration: decay_start 0 decays over the whole run.
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 0, 1, 4), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 0, 4, 4), 0.25);
}

// A run extended on resume (train.total_iterations raised) follows the longer schedule from
// the iteration it resumes at: the rate goes back up to where that schedule puts it.
TEST(LrSchedule, AnExtendedRunFollowsTheLongerSchedule) {
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1250, 1250), 1.0 / 500.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1251, 1500), 250.0 / 750.0);
  EXPECT_DOUBLE_EQ(learning_rate_factor(LrSchedule::linear_decay, 750, 1500, 1500), 1.0 / 750.0);
}

TEST(LrSchedule, RefusesADecayOutsideTheRunAndIterationsOutsideIt) {
  for (const auto& [start, itr] : {std::pair<std::int64_t, std::int64_t>{1250, 10}, {-1, 10}, {100, 0}, {100, 1251}}) {
    try {
      learning_rate_factor(LrSchedule::linear_decay, start, itr, 1250);
      FAIL() << "no error for decay start " << start << ", iteration " << itr;
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(std::to_string(start < 0 || start >= 1250 ? start : itr)), std::string::npos) << message;
    }
  }
}

}  // namespace
}  // namespace biggan::train
