// `biggan logs plot`: figures of runs as PNG and SVG, rendered by gnuplot (Debian gnuplot-nox).
#pragma once

#include <string>
#include <vector>

#include "analysis/run_logs.h"

namespace biggan::analysis {

struct Figure {
  std::string title;
  std::string png, svg;  // paths of the written files
};

// Per run: losses (raw and smoothed), singular values of G and of D (a line per layer), the
// evaluation metric against iteration and wall time, throughput over wall time; vertical marks
// at every resume. With more than one run, overlays of smoothed losses, metric and throughput.
// The data and gnuplot scripts stay in `folder`/data for reuse. Error when gnuplot is missing.
std::vector<Figure> plot_runs(const std::vector<RunLogs>& runs, const std::string& folder);

// Centered moving average over `window` points (the raw series when window <= 1).
std::vector<double> smooth(const std::vector<double>& y, int window);

}  // namespace biggan::analysis
