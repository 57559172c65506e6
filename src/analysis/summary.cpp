#include "analysis/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace biggan::analysis {

namespace {

double median(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !std::isfinite(x); }), v.end());
  if (v.empty()) return kNaN;
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

double value_or_nan(const Row& r, const std::string& key) {
  const auto it = r.values.find(key);
  return it == r.values.end() ? kNaN : it->second;
}

std::string number(double v, const char* format = "%.4g") {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

bool is_sbatch(const Event& e) { return e.source == "sbatch"; }

// The evaluation metric that ranks checkpoints: FID (lower is better) when logged, else IS,
// else the demo's classifier accuracy.
struct MetricChoice {
  std::string key, label;
  bool higher_is_better = true;
};
MetricChoice best_metric_of(const RunLogs& run) {
  const auto present = keys(run.eval);
  const auto has = [&](const char* k) { return std::find(present.begin(), present.end(), k) != present.end(); };
  if (has("FID")) return {"FID", "FID (min)", false};
  if (has("IS_mean")) return {"IS_mean", "IS (max)", true};
  if (has("accuracy")) return {"accuracy", "accuracy (max)", true};
  return {};
}

// Mean of `key` over rows with x in (lo, hi], x from `x_key` (empty: the iteration).
double window_mean(const std::vector<Row>& rows, const std::string& key, const std::string& x_key, double lo,
                   double hi) {
  double sum = 0;
  int n = 0;
  for (const auto& r : rows) {
    const double x = x_key.empty() ? static_cast<double>(r.itr) : value_or_nan(r, x_key);
    if (!(x > lo && x <= hi)) continue;
    const double v = value_or_nan(r, key);
    if (!std::isfinite(v)) continue;
    sum += v;
    ++n;
  }
  return n ? sum / n : kNaN;
}

// The last value of `key` at or before x.
double value_at(const std::vector<Row>& rows, const std::string& key, const std::string& x_key, double x) {
  double out = kNaN;
  for (const auto& r : rows) {
    const double rx = x_key.empty() ? static_cast<double>(r.itr) : value_or_nan(r, x_key);
    if (rx <= x && r.values.count(key)) out = r.values.at(key);
  }
  return out;
}

}  // namespace

Summary::Summary()
    : images_seen(kNaN),
      wall_seconds(kNaN),
      compute_seconds(0),
      lost_seconds(0),
      seconds_per_iteration(kNaN),
      images_per_second(kNaN),
      best_value(kNaN),
      last_G_loss(kNaN),
      last_D_loss_real(kNaN),
      last_D_loss_fake(kNaN) {}

std::vector<Interruption> interruptions(const RunLogs& run) {
  std::vector<Interruption> out;
  for (std::size_t i = 0; i < run.events.size(); ++i) {
    const Event& resume = run.events[i];
    if (resume.event != "resume" || is_sbatch(resume)) continue;
    // The last sign of life before the resume: a log line or an event other than the restart's
    // own job_start.
    double stop = kNaN;
    for (std::size_t k = 0; k < i; ++k)
      if (run.events[k].event != "job_start" && run.events[k].time < resume.time) stop = run.events[k].time;
    for (const auto& r : run.train)
      if (std::isfinite(r.time) && r.time < resume.time && !(r.time <= stop)) stop = r.time;
    Interruption x;
    x.itr = resume.itr;
    x.resume_time = resume.time;
    x.stop_time = std::isnan(stop) ? resume.time : stop;
    out.push_back(x);
  }
  return out;
}

Summary summarize(const RunLogs& run, double now) {
  Summary s;
  s.name = run.name;
  s.format = run.format;
  for (const auto& r : run.train) s.iterations = std::max(s.iterations, r.itr);
  for (const auto& r : run.eval) s.iterations = std::max(s.iterations, r.itr);
  if (!run.train.empty()) {
    const Row& last = run.train.back();
    s.images_seen = value_or_nan(last, "samples_seen");
    s.last_G_loss = value_or_nan(last, "G_loss");
    s.last_D_loss_real = value_or_nan(last, "D_loss_real");
    s.last_D_loss_fake = value_or_nan(last, "D_loss_fake");
  }

  // Timing.
  std::vector<double> per_iteration, throughput;
  double first = kNaN, last = kNaN;
  const auto see = [&](double t) {
    if (!std::isfinite(t) || t <= 0) return;
    first = std::isnan(first) ? t : std::min(first, t);
    last = std::isnan(last) ? t : std::max(last, t);
  };
  for (const auto& r : run.train) {
    const double seconds = value_or_nan(r, "seconds_per_iteration");
    if (std::isfinite(seconds)) {
      s.compute_seconds += seconds;
      per_iteration.push_back(seconds);
      see(r.time - seconds);
    }
    throughput.push_back(value_or_nan(r, "images_per_second"));
    see(r.time);
  }
  for (const auto& r : run.eval) see(r.time);
  for (const auto& e : run.events) see(e.time);
  s.wall_seconds = last - first;
  s.seconds_per_iteration = median(per_iteration);
  s.images_per_second = median(throughput);
  if (per_iteration.empty()) s.compute_seconds = kNaN;

  // Interruptions: the time between the last sign of life and the resume, plus the iterations
  // that had to be redone (those after the checkpoint the run resumed from).
  std::int64_t reached = 0;
  std::size_t next_event = 0;
  for (const auto& x : interruptions(run)) {
    for (; next_event < run.events.size() && run.events[next_event].time < x.resume_time; ++next_event)
      reached = std::max(reached, run.events[next_event].itr);
    ++s.restarts;
    s.lost_seconds += x.resume_time - x.stop_time;
    if (reached > x.itr && std::isfinite(s.seconds_per_iteration))
      s.lost_seconds += static_cast<double>(reached - x.itr) * s.seconds_per_iteration;
    reached = x.itr;
  }
  for (const auto& e : run.events)
    if (is_sbatch(e) && (e.event == "requeue" || e.event == "resubmit" || e.event == "preempted")) ++s.requeues;

  // Best evaluation.
  const auto metric = best_metric_of(run);
  if (!metric.key.empty()) {
    s.best_metric = metric.label;
    for (const auto& r : run.eval) {
      const double v = value_or_nan(r, metric.key);
      if (!std::isfinite(v)) continue;
      if (std::isnan(s.best_value) || (metric.higher_is_better ? v > s.best_value : v < s.best_value)) {
        s.best_value = v;
        s.best_itr = r.itr;
      }
    }
  }

  // Divergence: a non-finite loss, or D winning outright (hinge losses at 0 over the last 10% of
  // at least 20 logged iterations), the collapse BigGAN's paper describes.
  for (const auto& r : run.train)
    for (const char* k : {"G_loss", "D_loss_real", "D_loss_fake"})
      if (r.values.count(k) && !std::isfinite(r.values.at(k)) && !s.diverged) {
        s.diverged = true;
        s.diverged_reason = std::string("non-finite ") + k + " at iteration " + std::to_string(r.itr);
      }
  if (!s.diverged && run.train.size() >= 20) {
    const std::size_t tail = std::max<std::size_t>(run.train.size() / 10, 2);
    double d = 0;
    for (std::size_t i = run.train.size() - tail; i < run.train.size(); ++i)
      d += value_or_nan(run.train[i], "D_loss_real") + value_or_nan(run.train[i], "D_loss_fake");
    d /= static_cast<double>(tail);
    if (std::isfinite(d) && d < 1e-3) {
      s.diverged = true;
      s.diverged_reason = "D hinge losses at 0 over the last " + std::to_string(tail) + " iterations (collapse)";
    }
  }

  // Status from the last event that decides it.
  s.status = "unknown";
  for (const auto& e : run.events) {
    if (e.event == "finish" || e.event == "finished") s.status = "finished";
    else if (e.event == "failed" || e.event == "restart_limit") s.status = "failed";
    else if (e.event == "stop" || e.event == "requeue" || e.event == "resubmit" || e.event == "preempted")
      s.status = "stopped";
    else if (e.event == "start" || e.event == "resume" || e.event == "job_start") s.status = "running";
  }
  if (s.status == "running" || s.status == "unknown")
    s.status = std::isfinite(last) && now - last < 300 ? "running" : (run.events.empty() ? "unknown" : "interrupted");
  return s;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  const long long total = std::llround(seconds);
  char buf[64];
  if (total >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm%02llds", total / 3600, total / 60 % 60, total % 60);
  else if (total >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", total / 60, total % 60);
  else std::snprintf(buf, sizeof buf, "%.1fs", seconds);
  return buf;
}

namespace {

std::string render(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size(), 0);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows)
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  std::ostringstream out;
  const auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      out << cells[c] << std::string(width[c] - cells[c].size(), ' ');
      out << (c + 1 < cells.size() ? "  " : "\n");
    }
  };
  line(header);
  std::vector<std::string> rule;
  for (const auto w : width) rule.push_back(std::string(w, '-'));
  line(rule);
  for (const auto& row : rows) line(row);
  return out.str();
}

}  // namespace

Table summary_rows(const std::vector<Summary>& summaries) {
  std::vector<std::string> header{""};
  for (const auto& s : summaries) header.push_back(s.name.size() > 48 ? s.name.substr(0, 45) + "..." : s.name);
  const auto row = [&](const std::string& label, auto cell) {
    std::vector<std::string> r{label};
    for (const auto& s : summaries) r.push_back(cell(s));
    return r;
  };
  std::vector<std::vector<std::string>> rows{
      row("format", [](const Summary& s) { return s.format; }),
      row("status", [](const Summary& s) { return s.status; }),
      row("iterations", [](const Summary& s) { return std::to_string(s.iterations); }),
      row("images seen", [](const Summary& s) { return number(s.images_seen, "%.0f"); }),
      row("wall time", [](const Summary& s) { return format_duration(s.wall_seconds); }),
      row("compute time", [](const Summary& s) { return format_duration(s.compute_seconds); }),
      row("lost to restarts", [](const Summary& s) { return format_duration(s.lost_seconds); }),
      row("restarts (resumes)", [](const Summary& s) { return std::to_string(s.restarts); }),
      row("requeues", [](const Summary& s) { return std::to_string(s.requeues); }),
      row("s / iteration", [](const Summary& s) { return number(s.seconds_per_iteration, "%.4g"); }),
      row("images / s", [](const Summary& s) { return number(s.images_per_second, "%.4g"); }),
      row("best", [](const Summary& s) {
        return s.best_metric.empty() ? std::string("-")
                                     : s.best_metric + " " + number(s.best_value) + " @ " + std::to_string(s.best_itr);
      }),
      row("last G_loss", [](const Summary& s) { return number(s.last_G_loss); }),
      row("last D_loss_real", [](const Summary& s) { return number(s.last_D_loss_real); }),
      row("last D_loss_fake", [](const Summary& s) { return number(s.last_D_loss_fake); }),
      row("diverged", [](const Summary& s) { return s.diverged ? "yes: " + s.diverged_reason : std::string("no"); }),
  };
  return {header, rows};
}

std::string summary_table(const std::vector<Summary>& summaries) {
  const Table t = summary_rows(summaries);
  return render(t.header, t.rows);
}

std::string compare_table(const std::vector<RunLogs>& runs, int points) {
  std::ostringstream out;
  // Aligned by iteration, then by images seen, up to the shortest run.
  for (const std::string& x_key : {std::string(), std::string("samples_seen")}) {
    double end = std::numeric_limits<double>::infinity();
    for (const auto& run : runs) {
      double run_end = 0;
      for (const auto& r : run.train)
        run_end = std::max(run_end, x_key.empty() ? static_cast<double>(r.itr) : value_or_nan(r, x_key));
      end = std::min(end, run_end);
    }
    if (!(end > 0) || !std::isfinite(end)) {
      out << "(no common " << (x_key.empty() ? "iterations" : "images-seen counts") << " to align)\n\n";
      continue;
    }
    std::vector<std::string> header{x_key.empty() ? "iteration" : "images seen"};
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const std::string tag = "[" + std::to_string(i + 1) + "] ";
      header.push_back(tag + "G_loss");
      header.push_back(tag + "D_loss");
      const auto metric = best_metric_of(runs[i]);
      if (!metric.key.empty()) header.push_back(tag + metric.key);
    }
    std::vector<std::vector<std::string>> rows;
    const double step = end / points;
    for (int p = 1; p <= points; ++p) {
      const double x = std::round(step * p);
      std::vector<std::string> row{number(x, "%.0f")};
      for (const auto& run : runs) {
        row.push_back(number(window_mean(run.train, "G_loss", x_key, x - step, x)));
        const double real = window_mean(run.train, "D_loss_real", x_key, x - step, x);
        const double fake = window_mean(run.train, "D_loss_fake", x_key, x - step, x);
        row.push_back(number(real + fake));
        const auto metric = best_metric_of(run);
        if (metric.key.empty()) continue;
        // Evaluations are keyed by iteration; for images seen, map through the train rows.
        double at = x;
        if (!x_key.empty()) {
          at = kNaN;
          for (const auto& r : run.train)
            if (value_or_nan(r, x_key) <= x) at = static_cast<double>(r.itr);
        }
        row.push_back(std::isnan(at) ? "-" : number(value_at(run.eval, metric.key, "", at)));
      }
      rows.push_back(std::move(row));
    }
    out << (x_key.empty() ? "Aligned by iteration" : "Aligned by images seen")
        << " (losses: means over each interval; metric: the latest evaluation)\n"
        << render(header, rows) << "\n";
  }
  out << "Runs:\n";
  for (std::size_t i = 0; i < runs.size(); ++i) out << "  [" << i + 1 << "] " << runs[i].name << "  (" << runs[i].path << ")\n";
  return out.str();
}

}  // namespace biggan::analysis
