// How evaluation results are written: our eval.jsonl fields and BigGAN-PyTorch's log line.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "metrics/evaluation.h"

namespace biggan::metrics {

// {"IS_mean", "IS_std", "FID" (null when not computed), "samples"}.
nlohmann::json to_json(const GeneratorMetrics& metrics);

// One line of BigGAN-PyTorch's <experiment>_log.jsonl, key order and separators included (its
// MATLAB parser depends on them); FID 9999 stands for "not computed", as in the original.
std::string biggan_pytorch_test_log_line(std::int64_t itr, const GeneratorMetrics& metrics, double unix_time);

}  // namespace biggan::metrics
