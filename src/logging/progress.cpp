#include "logging/progress.h"

#include <cstdlib>

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "core/error.h"
#include "logging/log.h"

namespace biggan::logging {

ProgressStyle resolve_progress_style(ProgressStyle style, bool is_terminal) {
  if (style != ProgressStyle::automatic) return style;
  return is_terminal ? ProgressStyle::bar : ProgressStyle::lines;
}

bool stdout_is_terminal() {
  // Open MPI gives ranks a pseudo-terminal even when mpirun's own output goes to a file, and
  // srun may too: under a launcher, a redrawn bar would litter job logs, so use lines.
  for (const char* launcher : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_PROCID"})
    if (std::getenv(launcher)) return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e9) return "?";
  const long long s = static_cast<long long>(seconds + 0.5);
  char buf[48];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::string label, std::int64_t total, ProgressStyle style, std::int64_t start,
                   double line_interval_seconds, std::int64_t line_every)
    : label_(std::move(label)),
      total_(total),
      style_(settings().rank == 0 ? resolve_progress_style(style, stdout_is_terminal()) : ProgressStyle::none),
      start_(start),
      line_interval_seconds_(line_interval_seconds),
      line_every_(line_every),
      t0_(Clock::now()),
      last_print_(t0_),
      last_done_(start) {}

Progress::~Progress() {
  if (!finished_ && drew_bar_) std::cout << std::endl;
}

std::string Progress::status(std::int64_t done, double elapsed, const std::string& detail) const {
  const double rate = elapsed > 0 ? static_cast<double>(done - start_) / elapsed : 0.0;
  char buf[160];
  std::string s = label_ + " ";
  if (total_ > 0) {
    std::snprintf(buf, sizeof buf, "%lld/%lld (%.1f%%)", static_cast<long long>(done),
                  static_cast<long long>(total_), 100.0 * static_cast<double>(done) / static_cast<double>(total_));
  } else {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(done));
  }
  s += buf;
  if (rate > 0) {
    if (rate >= 1)
      std::snprintf(buf, sizeof buf, " | %.2f it/s", rate);
    else
      std::snprintf(buf, sizeof buf, " | %.2f s/it", 1.0 / rate);
    s += buf;
  }
  s += " | elapsed " + format_duration(elapsed);
  if (total_ > 0 && rate > 0) s += " | ETA " + format_duration(static_cast<double>(total_ - done) / rate);
  if (!detail.empty()) s += " | " + detail;
  return s;
}

void Progress::update(std::int64_t done, const std::string& detail) {
  if (style_ == ProgressStyle::none) return;
  const auto now = Clock::now();
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  const double since_print = std::chrono::duration<double>(now - last_print_).count();
  if (style_ == ProgressStyle::bar) {
    if (since_print < 0.2 && done != total_) return;  // redraw at most 5 times a second
    const int width = 24;
    const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 0.0;
    const int filled = static_cast<int>(fraction * width);
    std::string bar = "[" + std::string(filled, '#') + std::string(width - filled, '.') + "] ";
    std::cout << "\r\033[K" << (total_ > 0 ? bar : std::string()) << status(done, elapsed, detail) << std::flush;
    drew_bar_ = true;
  } else {
    const bool due = line_every_ > 0 ? (done - last_done_ >= line_every_) : since_print >= line_interval_seconds_;
    if (!due) return;
    std::cout << status(done, elapsed, detail) << std::endl;
    last_done_ = done;
  }
  last_print_ = now;
}

void Progress::finish(std::int64_t done, const std::string& detail) {
  if (finished_) return;
  finished_ = true;
  if (style_ == ProgressStyle::none) return;
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  if (drew_bar_) std::cout << "\r\033[K";
  std::cout << status(done, elapsed, detail) << std::endl;
}

}  // namespace biggan::logging
