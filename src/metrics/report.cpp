#include "metrics/report.h"

#include <cmath>
#include <cstdio>

namespace biggan::metrics {

nlohmann::json to_json(const GeneratorMetrics& m) {
  return {{"IS_mean", m.inception_score.mean},
          {"IS_std", m.inception_score.std},
          {"FID", std::isnan(m.FID) ? nlohmann::json() : nlohmann::json(m.FID)},
          {"samples", m.samples}};
}

std::string biggan_pytorch_test_log_line(std::int64_t itr, const GeneratorMetrics& m, double unix_time) {
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%.6f", unix_time);
  return "{\"itr\": " + std::to_string(itr) + ", \"IS_mean\": " + nlohmann::json(m.inception_score.mean).dump() +
         ", \"IS_std\": " + nlohmann::json(m.inception_score.std).dump() +
         ", \"FID\": " + nlohmann::json(std::isnan(m.FID) ? 9999.0 : m.FID).dump() + ", \"_stamp\": " + stamp + "}";
}

}  // namespace biggan::metrics
