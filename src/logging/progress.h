// Progress reporting for long loops: a redrawn bar with rate and ETA on a terminal, plain
// periodic lines in batch jobs (Slurm output files must stay readable). Rank 0 only.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace biggan::logging {

// automatic: bar on a terminal, lines otherwise (resolve_progress_style).
enum class ProgressStyle { automatic, bar, lines, none };

ProgressStyle resolve_progress_style(ProgressStyle style, bool stdout_is_terminal);
bool stdout_is_terminal();
// 3725 s -> "1:02:05"; 65 s -> "1:05".
std::string format_duration(double seconds);

class Progress {
 public:
  // total <= 0: unknown total (no percentage or ETA); `style` automatic is resolved here.
  // `start` lets a resumed run count from where it was, with rates measured on this process's
  // work only.
  Progress(std::string label, std::int64_t total, ProgressStyle style, std::int64_t start = 0,
           double line_interval_seconds = 30.0, std::int64_t line_every = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::int64_t done, const std::string& detail = std::string());
  void finish(std::int64_t done, const std::string& detail = std::string());

  // The formatted status text (without control characters); public for tests.
  std::string status(std::int64_t done, double elapsed_seconds, const std::string& detail) const;

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  std::int64_t total_;
  ProgressStyle style_;
  std::int64_t start_;
  double line_interval_seconds_;
  std::int64_t line_every_;
  Clock::time_point t0_;
  Clock::time_point last_print_;
  std::int64_t last_done_ = 0;
  bool finished_ = false;
  bool drew_bar_ = false;
};

}  // namespace biggan::logging
