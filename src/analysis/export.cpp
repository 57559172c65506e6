#include "analysis/export.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace biggan::analysis {

namespace {

std::string cell(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// RFC 4180 quoting, for run names with commas or quotes.
std::string quoted(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (const char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

std::string to_csv(const std::vector<RunLogs>& runs) {
  std::ostringstream out;
  out << "run,source,itr,time,images_seen,metric,value\n";
  for (const auto& run : runs) {
    const std::string name = quoted(run.name);
    const auto emit = [&](const char* source, const std::vector<Row>& rows, bool with_images) {
      for (const auto& r : rows) {
        const auto seen = r.values.find("samples_seen");
        const std::string time = std::isfinite(r.time) ? cell(r.time) : "";
        const std::string images = with_images && seen != r.values.end() ? cell(seen->second) : "";
        for (const auto& [metric, value] : r.values)
          out << name << ',' << source << ',' << r.itr << ',' << time << ',' << images << ',' << quoted(metric) << ','
              << cell(value) << '\n';
      }
    };
    emit("train", run.train, true);
    emit("sv", run.sv, false);
    emit("eval", run.eval, false);
  }
  return out.str();
}

}  // namespace biggan::analysis
