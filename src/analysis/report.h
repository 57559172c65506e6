// `biggan logs report`: one self-contained HTML page (figures and sample sheets embedded as
// data URIs) that opens offline in any browser.
#pragma once

#include <string>
#include <vector>

#include "analysis/plot.h"
#include "analysis/run_logs.h"
#include "analysis/summary.h"

namespace biggan::analysis {

void write_report(const std::vector<RunLogs>& runs, const std::vector<Summary>& summaries,
                  const std::vector<Figure>& figures, const std::string& html_path);

// Standard base64 (RFC 4648, with padding), for data URIs.
std::string base64(const std::string& bytes);

}  // namespace biggan::analysis
