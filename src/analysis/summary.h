// What a run did, in numbers: the `biggan logs summary` and `compare` tables.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/run_logs.h"

namespace biggan::analysis {

struct Summary {
  std::string name, format;
  std::string status;  // finished | running | stopped (requeue pending) | failed | interrupted | unknown
  std::int64_t iterations = 0;
  double images_seen;            // real images drawn by the loader (NaN: not logged)
  double wall_seconds;           // first start to last log line
  double compute_seconds;        // sum of the kept iterations' times
  double lost_seconds;           // gaps between a stop and the next resume, plus redone iterations
  int restarts = 0;              // resumes from a checkpoint
  int requeues = 0;              // requeues, follow-up jobs and preemptions seen by slurm/train.sbatch
  double seconds_per_iteration;  // median
  double images_per_second;      // median
  std::string best_metric;       // e.g. "accuracy (max)", "FID (min)"
  double best_value;
  std::int64_t best_itr = 0;
  double last_G_loss, last_D_loss_real, last_D_loss_fake;
  bool diverged = false;
  std::string diverged_reason;
  Summary();
};

// `now` decides between running and interrupted for a run whose last line is recent (5 min).
Summary summarize(const RunLogs& run, double now);

// Interruptions (stop/preemption → resume), in iterations and Unix time, for figures.
struct Interruption {
  std::int64_t itr = 0;
  double stop_time = 0, resume_time = 0;
};
std::vector<Interruption> interruptions(const RunLogs& run);

// The summary as cells, one run per column (for text and HTML).
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
Table summary_rows(const std::vector<Summary>& summaries);

// Text tables: one run per column.
std::string summary_table(const std::vector<Summary>& summaries);
// Values aligned by iteration and by images seen at common grid points (smoothed losses and the
// evaluation metric), one column per run.
std::string compare_table(const std::vector<RunLogs>& runs, int points);

std::string format_duration(double seconds);

}  // namespace biggan::analysis
