#include "analysis/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "analysis/summary.h"

namespace biggan::analysis {

namespace fs = std::filesystem;

namespace {

bool have_gnuplot() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

std::string file_safe(const std::string& name) {
  std::string out;
  for (const char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' ? c : '_';
  return out.substr(0, 100);
}

// gnuplot string literal (single quotes, doubled inside).
std::string gp(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "NaN";
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// Columns of equal length into a whitespace data file gnuplot reads; a blank line after each
// row index in `breaks` ends a line segment there.
void write_columns(const std::string& path, const std::vector<std::vector<double>>& columns,
                   const std::vector<std::size_t>& breaks = {}) {
  std::ostringstream out;
  const std::size_t n = columns.empty() ? 0 : columns[0].size();
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t c = 0; c < columns.size(); ++c) out << (c ? " " : "") << num(columns[c][i]);
    out << '\n';
    if (std::find(breaks.begin(), breaks.end(), i) != breaks.end()) out << '\n';
  }
  write_file_atomically(path, out.str());
}

class FigureWriter {
 public:
  explicit FigureWriter(std::string folder) : folder_(std::move(folder)), data_(folder_ + "/data") {
    fs::create_directories(data_);
  }
  std::string data_path(const std::string& name) const { return data_ + "/" + name + ".dat"; }

  // `body`: gnuplot commands that end in a plot command; rendered to PNG and SVG.
  Figure render(const std::string& name, const std::string& title, const std::string& body) {
    Figure f{title, folder_ + "/" + name + ".png", folder_ + "/" + name + ".svg"};
    // The body runs once per terminal (a multiplot cannot be replotted).
    std::ostringstream script;
    script << "set termoption noenhanced\n"
           << "set title " << gp(title) << "\nset grid\nset key outside right top\n"
           << "set terminal pngcairo size 1100,620 noenhanced font 'Sans,10'\n"
           << "set output " << gp(f.png) << "\n" << body << "\nunset output\n"
           << "set terminal svg size 1100,620 noenhanced font 'Sans,10' background rgb 'white'\n"
           << "set output " << gp(f.svg) << "\n" << body << "\nunset output\n";
    const std::string script_path = data_ + "/" + name + ".gp";
    write_file_atomically(script_path, script.str());
    const std::string errors = data_ + "/" + name + ".err";
    const std::string command = "gnuplot " + gp(script_path) + " 2>" + gp(errors);
    if (std::system(command.c_str()) != 0 || !fs::exists(f.png) || fs::file_size(f.png) == 0) {
      std::string message;
      try {
        message = read_file(errors);
      } catch (const std::exception&) {
      }
      throw Error("gnuplot failed on " + script_path + ": " + message.substr(0, 500));
    }
    return f;
  }

 private:
  std::string folder_, data_;
};

int smoothing_window(std::size_t n) { return std::max(1, static_cast<int>(n / 40)); }

// Vertical dashed marks at x positions: grey for resumes, red for stops (wall-time axes).
std::string marks(const std::vector<double>& resumes, const std::vector<double>& stops = {}) {
  std::ostringstream out;
  out << "unset arrow\n";
  for (const double x : resumes)
    out << "set arrow from " << num(x) << ", graph 0 to " << num(x) << ", graph 1 nohead dt 2 lc rgb '#777777'\n";
  for (const double x : stops)
    out << "set arrow from " << num(x) << ", graph 0 to " << num(x) << ", graph 1 nohead dt 3 lc rgb '#d62728'\n";
  return out.str();
}

double first_time(const RunLogs& run) {
  double t = kNaN;
  for (const auto& e : run.events)
    if (e.time > 0) t = std::isnan(t) ? e.time : std::min(t, e.time);
  for (const auto& r : run.train)
    if (std::isfinite(r.time)) t = std::isnan(t) ? r.time : std::min(t, r.time);
  for (const auto& r : run.eval)
    if (std::isfinite(r.time)) t = std::isnan(t) ? r.time : std::min(t, r.time);
  return t;
}

// Wall time in the unit that suits the run's length.
struct TimeUnit {
  double seconds = 3600;
  std::string label = "wall time (hours)";
};
TimeUnit time_unit(const RunLogs& run, double t0) {
  double end = t0;
  for (const auto& r : run.train)
    if (std::isfinite(r.time)) end = std::max(end, r.time);
  for (const auto& r : run.eval)
    if (std::isfinite(r.time)) end = std::max(end, r.time);
  const double span = end - t0;
  if (span < 120) return {1, "wall time (seconds)"};
  if (span < 7200) return {60, "wall time (minutes)"};
  return {};
}

std::vector<double> times_of(const std::vector<Row>& rows, double t0, const TimeUnit& unit) {
  std::vector<double> out;
  for (const auto& r : rows) out.push_back(std::isfinite(r.time) ? (r.time - t0) / unit.seconds : kNaN);
  return out;
}

// Row indices after which the run was away (a gap of more than 10 iterations' time plus 5 s):
// a blank line there keeps gnuplot from drawing a line across the interruption.
std::vector<std::size_t> gaps_in(const std::vector<Row>& rows) {
  std::vector<std::size_t> out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    const auto it = rows[i].values.find("seconds_per_iteration");
    const double step = it == rows[i].values.end() ? 0 : it->second;
    if (std::isfinite(rows[i].time) && std::isfinite(rows[i - 1].time) && rows[i].time - rows[i - 1].time > 10 * step + 5)
      out.push_back(i - 1);
  }
  return out;
}

std::vector<double> column(const std::vector<Row>& rows, const std::string& key) {
  std::vector<double> out;
  for (const auto& r : rows) {
    const auto it = r.values.find(key);
    out.push_back(it == r.values.end() ? kNaN : it->second);
  }
  return out;
}

std::vector<double> iterations(const std::vector<Row>& rows) {
  std::vector<double> out;
  for (const auto& r : rows) out.push_back(static_cast<double>(r.itr));
  return out;
}

struct EvalMetric {
  std::string key, label;
};
std::vector<EvalMetric> eval_metrics(const RunLogs& run) {
  std::vector<EvalMetric> out;
  for (const auto& k : keys(run.eval))
    if (k == "FID" || k == "IS_mean" || k == "accuracy" || k == "frechet") out.push_back({k, k});
  return out;
}

bool has_values(const std::vector<Row>& rows, const std::string& key) {
  for (const auto& r : rows) {
    const auto it = r.values.find(key);
    if (it != r.values.end() && std::isfinite(it->second)) return true;
  }
  return false;
}

bool has_times(const std::vector<Row>& rows) {
  for (const auto& r : rows)
    if (std::isfinite(r.time)) return true;
  return false;
}

}  // namespace

std::vector<double> smooth(const std::vector<double>& y, int window) {
  if (window <= 1) return y;
  std::vector<double> out(y.size(), kNaN);
  const int half = window / 2;
  for (std::size_t i = 0; i < y.size(); ++i) {
    double sum = 0;
    int n = 0;
    const std::size_t lo = i >= static_cast<std::size_t>(half) ? i - half : 0;
    const std::size_t hi = std::min(y.size() - 1, i + half);
    for (std::size_t k = lo; k <= hi; ++k)
      if (std::isfinite(y[k])) {
        sum += y[k];
        ++n;
      }
    if (n) out[i] = sum / n;
  }
  return out;
}

std::vector<Figure> plot_runs(const std::vector<RunLogs>& runs, const std::string& folder) {
  if (!have_gnuplot())
    throw Error("biggan logs plot renders with gnuplot, which is not installed: apt-get install gnuplot-nox");
  FigureWriter writer(folder);
  std::vector<Figure> figures;
  const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

  for (const auto& run : runs) {
    const std::string base = file_safe(run.name);
    const double t0 = first_time(run);
    const TimeUnit unit = time_unit(run, t0);
    std::vector<double> resume_itrs, resume_times, stop_times;
    for (const auto& x : interruptions(run)) {
      resume_itrs.push_back(static_cast<double>(x.itr));
      if (std::isfinite(t0)) {
        resume_times.push_back((x.resume_time - t0) / unit.seconds);
        stop_times.push_back((x.stop_time - t0) / unit.seconds);
      }
    }
    const auto itr = iterations(run.train);
    const int w = smoothing_window(run.train.size());

    if (!run.train.empty()) {
      // Losses: raw in pale colours, smoothed in strong ones (as the original's MATLAB figure).
      std::vector<std::vector<double>> cols{itr};
      for (const char* k : {"D_loss_real", "D_loss_fake", "G_loss"}) {
        const auto raw = column(run.train, k);
        cols.push_back(raw);
        cols.push_back(smooth(raw, w));
      }
      const std::string dat = writer.data_path(base + "_losses");
      write_columns(dat, cols);
      std::ostringstream body;
      body << marks(resume_itrs) << "set xlabel 'iteration'\nset ylabel 'loss'\n"
           << "plot " << gp(dat) << " u 1:2 w l lc rgb '#a6c8e8' notitle, '' u 1:3 w l lw 2 lc rgb '#1f77b4' t 'D_loss_real', "
           << "'' u 1:4 w l lc rgb '#b5e0b5' notitle, '' u 1:5 w l lw 2 lc rgb '#2ca02c' t 'D_loss_fake', "
           << "'' u 1:6 w l lc rgb '#f2b0b0' notitle, '' u 1:7 w l lw 2 lc rgb '#d62728' t 'G_loss'";
      figures.push_back(writer.render(base + "_losses", run.name + ": losses (smoothed over " + std::to_string(w) +
                                                            " iterations; dashed: resumes)", body.str()));

      // Throughput over wall time.
      const std::string tdat = writer.data_path(base + "_throughput");
      write_columns(tdat,
                    {times_of(run.train, t0, unit), column(run.train, "images_per_second"),
                     smooth(column(run.train, "images_per_second"), w)},
                    gaps_in(run.train));
      std::ostringstream tbody;
      tbody << marks(resume_times, stop_times) << "set xlabel " << gp(unit.label) << "\nset ylabel 'images / s'\n"
            << "plot " << gp(tdat) << " u 1:2 w p pt 7 ps 0.3 lc rgb '#a6c8e8' t 'per iteration', '' u 1:3 w l lw 2 lc rgb '#1f77b4' t 'smoothed'";
      if (has_values(run.train, "images_per_second") && has_times(run.train))
        figures.push_back(writer.render(base + "_throughput", run.name + ": throughput (red: stops, grey: resumes)", tbody.str()));
    }

    // Singular values: one line per layer, G and D separately.
    for (const char* net : {"G", "D"}) {
      std::vector<std::string> layers;
      for (const auto& k : keys(run.sv))
        if (k.rfind(std::string(net) + "/", 0) == 0) layers.push_back(k);
      if (layers.empty()) continue;
      std::vector<std::vector<double>> cols{iterations(run.sv)};
      for (const auto& l : layers) cols.push_back(column(run.sv, l));
      const std::string dat = writer.data_path(base + "_sv_" + net);
      write_columns(dat, cols);
      std::ostringstream body;
      body << marks(resume_itrs) << "set xlabel 'iteration'\nset ylabel 'singular value'\nset key off\nplot ";
      for (std::size_t i = 0; i < layers.size(); ++i)
        body << (i ? ", " : "") << gp(dat) << " u 1:" << i + 2 << " w l t " << gp(layers[i]);
      figures.push_back(writer.render(base + "_sv_" + net, run.name + ": singular values of " + net + " (" +
                                                               std::to_string(layers.size()) + " layers)", body.str()));
    }

    // Evaluation metric against iteration and against wall time.
    for (const auto& m : eval_metrics(run)) {
      const std::string dat = writer.data_path(base + "_" + m.key);
      write_columns(dat, {iterations(run.eval), times_of(run.eval, t0, unit), column(run.eval, m.key)});
      std::ostringstream body;
      body << "set multiplot layout 1,2\n" << marks(resume_itrs) << "set xlabel 'iteration'\nset ylabel "
           << gp(m.label) << "\nplot " << gp(dat) << " u 1:3 w lp pt 7 ps 0.6 lc rgb '#1f77b4' notitle\n"
           << marks(resume_times, stop_times) << "set xlabel " << gp(unit.label) << "\nplot " << gp(dat)
           << " u 2:3 w lp pt 7 ps 0.6 lc rgb '#d62728' notitle\nunset multiplot";
      figures.push_back(writer.render(base + "_" + m.key, run.name + ": " + m.label, body.str()));
    }
  }

  if (runs.size() > 1) {
    std::ostringstream losses, metric, throughput;
    losses << "set xlabel 'iteration'\nset ylabel 'smoothed loss'\nplot ";
    throughput << "set xlabel 'wall time (hours)'\nset ylabel 'images / s (smoothed)'\nplot ";
    bool any_metric = false, any_throughput = false;
    metric << "set xlabel 'iteration'\nset ylabel 'evaluation'\nplot ";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const auto& run = runs[i];
      const std::string colour = palette[i % 8];
      const std::string tag = "[" + std::to_string(i + 1) + "] ";
      const int w = smoothing_window(run.train.size());
      const std::string dat = writer.data_path("compare_" + std::to_string(i + 1));
      write_columns(dat, {iterations(run.train), smooth(column(run.train, "G_loss"), w),
                          smooth(column(run.train, "D_loss_real"), w), smooth(column(run.train, "D_loss_fake"), w),
                          times_of(run.train, first_time(run), TimeUnit{}), smooth(column(run.train, "images_per_second"), w)},
                    gaps_in(run.train));
      losses << (i ? ", " : "") << gp(dat) << " u 1:2 w l lw 2 lc rgb '" << colour << "' t " << gp(tag + "G_loss")
             << ", '' u 1:($3+$4) w l dt 2 lc rgb '" << colour << "' t " << gp(tag + "D_loss");
      if (has_values(run.train, "images_per_second") && has_times(run.train)) {
        throughput << (any_throughput ? ", " : "") << gp(dat) << " u 5:6 w l lw 2 lc rgb '" << colour << "' t "
                   << gp(tag + run.name);
        any_throughput = true;
      }
      for (const auto& m : eval_metrics(run)) {
        const std::string edat = writer.data_path("compare_eval_" + std::to_string(i + 1) + "_" + m.key);
        write_columns(edat, {iterations(run.eval), column(run.eval, m.key)});
        metric << (any_metric ? ", " : "") << gp(edat) << " u 1:2 w lp pt 7 ps 0.5 lc rgb '" << colour << "' t "
               << gp(tag + m.label);
        any_metric = true;
      }
    }
    figures.push_back(writer.render("compare_losses", "losses of " + std::to_string(runs.size()) + " runs", losses.str()));
    if (any_throughput)
      figures.push_back(writer.render("compare_throughput", "throughput of the runs that log it", throughput.str()));
    if (any_metric)
      figures.push_back(writer.render("compare_eval", "evaluations of " + std::to_string(runs.size()) + " runs", metric.str()));
  }
  return figures;
}

}  // namespace biggan::analysis
