// The logs of one training run, read for offline analysis: ours (logs/*.jsonl in a run folder)
// or BigGAN-PyTorch's (logs/<exp>_log.jsonl, logs/<exp>/*.log, metalog.txt). Reading tolerates a
// run that is still writing: a torn last line is skipped and noted, never fatal.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace biggan::analysis {

// A value a log does not have (a missing time, a metric not logged at that step).
inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One logged step: the iteration, the Unix time when known (NaN otherwise) and named values.
struct Row {
  std::int64_t itr = 0;
  double time;
  std::map<std::string, double> values;
  Row();
};

// One line of the events log (the trainer's and slurm/train.sbatch's).
struct Event {
  double time = 0;
  std::string event, source, reason, job_id;
  int restart_count = 0;
  std::int64_t itr = 0;
};

struct RunLogs {
  std::string name;    // the experiment: the run folder's name
  std::string path;    // the run folder (ours) or BigGAN-PyTorch's logs/<exp> folder
  std::string format;  // "biggan" or "biggan-pytorch"
  std::vector<Row> train;  // per iteration: losses, timing, throughput
  std::vector<Row> sv;     // singular values, keys "G/<layer>" and "D/<layer>"
  std::vector<Row> eval;   // evaluations: accuracy/frechet (demo metric) or IS_mean/IS_std/FID
  std::vector<Event> events;
  std::vector<std::string> sample_sheets;  // PNGs of the fixed sample grid, oldest first
  std::vector<std::string> notes;          // what was skipped, e.g. a partially written line
};

// `path`: one of our run folders (or its logs/ folder), BigGAN-PyTorch's logs/<exp> folder, or
// its <exp>_log.jsonl. Malformed content is an Error naming the file and line.
RunLogs read_run(const std::string& path);

// Values of one key over the rows that have it, with their iterations.
struct Series {
  std::vector<double> x, y;
};
Series series(const std::vector<Row>& rows, const std::string& key);

// The keys present in any row, sorted.
std::vector<std::string> keys(const std::vector<Row>& rows);

}  // namespace biggan::analysis
