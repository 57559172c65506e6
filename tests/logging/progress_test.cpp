#include <gtest/gtest.h>

#include "core/error.h"
#include "logging/progress.h"

namespace biggan::logging {
namespace {

TEST(Progress, StatusHasRateAndEta) {
  Progress p("train", 1000, ProgressStyle::none);
  const std::string s = p.status(250, 10.0, "G_loss 1.0");
  EXPECT_NE(s.find("250/1000 (25.0%)"), std::string::npos) << s;
  EXPECT_NE(s.find("25.00 it/s"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 0:30"), std::string::npos) << s;
  EXPECT_NE(s.find("G_loss 1.0"), std::string::npos) << s;
}

TEST(Progress, ResumedRunRatesCountOnlyNewWork) {
  Progress p("train", 200, ProgressStyle::none, /*start=*/100);
  const std::string s = p.status(150, 100.0, "");
  EXPECT_NE(s.find("2.00 s/it"), std::string::npos) << s;
  EXPECT_NE(s.find("ETA 1:40"), std::string::npos) << s;
}

TEST(Progress, Styles) {
  EXPECT_EQ(resolve_progress_style(ProgressStyle::automatic, true), ProgressStyle::bar);
  EXPECT_EQ(resolve_progress_style(ProgressStyle::automatic, false), ProgressStyle::lines);
  EXPECT_EQ(resolve_progress_style(ProgressStyle::none, true), ProgressStyle::none);
  EXPECT_EQ(resolve_progress_style(ProgressStyle::lines, true), ProgressStyle::lines);
}

TEST(Progress, Durations) {
  EXPECT_EQ(format_duration(65), "1:05");
  EXPECT_EQ(format_duration(3725), "1:02:05");
  EXPECT_EQ(format_duration(-1), "?");
}

}  // namespace
}  // namespace biggan::logging
