// `biggan logs export --csv`: every logged metric of every run as one tidy table.
#pragma once

#include <string>
#include <vector>

#include "analysis/run_logs.h"

namespace biggan::analysis {

// Columns: run, source (train | sv | eval), itr, time, images_seen, metric, value. One row per
// metric and logged step; values in full precision ("%.17g"), NaN for a non-finite value and an
// empty cell for an unknown time or images-seen count.
std::string to_csv(const std::vector<RunLogs>& runs);

}  // namespace biggan::analysis
