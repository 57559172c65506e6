#include "analysis/run_logs.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <regex>
#include <set>
#include <sstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::analysis {

namespace fs = std::filesystem;

namespace {

// The complete lines of a log that may still be written to: a last line without its newline is
// a write in progress and is left out (noted), not an error.
std::vector<std::string> complete_lines(const std::string& path, std::vector<std::string>& notes) {
  const std::string text = read_file(path);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      notes.push_back(path + ":" + std::to_string(lines.size() + 1) + ": partially written last line skipped");
      break;
    }
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// One line of a JSON-lines file, and where it came from ("file:line") for errors.
struct JsonLine {
  std::string where;
  nlohmann::json j;
};

// JSON lines: every complete line must be an object.
std::vector<JsonLine> read_jsonl(const std::string& path, std::vector<std::string>& notes) {
  std::vector<JsonLine> out;
  const auto lines = complete_lines(path, notes);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t\r") == std::string::npos) continue;
    auto j = nlohmann::json::parse(lines[i], nullptr, false);
    const std::string where = path + ":" + std::to_string(i + 1);
    if (j.is_discarded() || !j.is_object()) throw Error(where + ": not a JSON object: " + lines[i].substr(0, 80));
    out.push_back({where, std::move(j)});
  }
  return out;
}

double number_or_nan(const nlohmann::json& v) { return v.is_number() ? v.get<double>() : kNaN; }

std::int64_t required_itr(const nlohmann::json& j, const std::string& path) {
  if (!j.contains("itr") || !j["itr"].is_number_integer())
    throw Error(path + ": a line has no integer \"itr\": " + j.dump().substr(0, 80));
  return j["itr"].get<std::int64_t>();
}

// Numeric fields (null stands for a non-finite value: nlohmann writes NaN as null).
Row row_from(const nlohmann::json& j, const std::string& path, const std::string& time_key) {
  Row r;
  r.itr = required_itr(j, path);
  for (const auto& [key, value] : j.items()) {
    if (key == "itr") continue;
    if (key == time_key) {
      r.time = number_or_nan(value);
      continue;
    }
    if (value.is_number() || value.is_null()) r.values[key] = number_or_nan(value);
    // A value that should be a number and is text would vanish from every table and plot.
    else if (value.is_string())
      throw Error(path + ": \"" + key + "\" is not a number: " + value.dump().substr(0, 40));
  }
  return r;
}

void read_ours(const fs::path& root, RunLogs& run) {
  const fs::path logs = root / "logs";
  run.format = "biggan";
  run.name = root.filename().string();
  run.path = root.string();
  if (fs::exists(logs / "metrics.jsonl"))
    for (const auto& [where, j] : read_jsonl((logs / "metrics.jsonl").string(), run.notes))
      run.train.push_back(row_from(j, where, "time"));
  if (fs::exists(logs / "sv.jsonl"))
    for (const auto& [where, j] : read_jsonl((logs / "sv.jsonl").string(), run.notes)) {
      Row r;
      r.itr = required_itr(j, where);
      for (const char* net : {"G", "D"})
        if (j.contains(net))
          for (const auto& [layer, value] : j[net].items()) r.values[std::string(net) + "/" + layer] = number_or_nan(value);
      run.sv.push_back(std::move(r));
    }
  if (fs::exists(logs / "eval.jsonl"))
    for (const auto& [where, j] : read_jsonl((logs / "eval.jsonl").string(), run.notes))
      run.eval.push_back(row_from(j, where, "time"));
  if (fs::exists(logs / "events.jsonl"))
    for (const auto& [where, j] : read_jsonl((logs / "events.jsonl").string(), run.notes)) {
      Event e;
      e.time = j.value("time", 0.0);
      e.event = j.value("event", "");
      e.source = j.value("source", "trainer");
      e.reason = j.value("reason", "");
      e.job_id = j.contains("job_id") && j["job_id"].is_string() ? j["job_id"].get<std::string>() : "";
      e.restart_count = j.value("restart_count", 0);
      e.itr = j.value("itr", std::int64_t{0});
      if (e.event.empty()) throw Error(where + ": a line has no \"event\": " + j.dump());
      run.events.push_back(std::move(e));
    }
  // The fixed grid, samples/fixed_samples<itr>.png, in iteration order.
  std::vector<std::pair<long long, std::string>> sheets;
  const std::regex sheet(R"(fixed_samples(\d{1,18})\.png)");  // 19 digits could overflow stoll
  if (fs::is_directory(root / "samples"))
    for (const auto& entry : fs::directory_iterator(root / "samples")) {
      std::smatch m;
      const std::string name = entry.path().filename().string();
      if (std::regex_match(name, m, sheet)) sheets.emplace_back(std::stoll(m[1]), entry.path().string());
    }
  std::sort(sheets.begin(), sheets.end());
  for (const auto& s : sheets) run.sample_sheets.push_back(s.second);
}

// BigGAN-PyTorch's MyLogger files: "<itr>: <value>" per line.
std::map<std::int64_t, double> read_mylogger(const std::string& path, std::vector<std::string>& notes) {
  std::map<std::int64_t, double> out;
  const auto lines = complete_lines(path, notes);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto colon = line.find(':');
    try {
      std::size_t used = 0;
      if (colon == std::string::npos) throw std::invalid_argument("no colon");
      const std::int64_t itr = std::stoll(line.substr(0, colon), &used);
      if (used != colon) throw std::invalid_argument("itr");
      const std::string rest = line.substr(colon + 1);
      const double v = rest.find("nan") != std::string::npos ? kNaN : std::stod(rest);
      out[itr] = v;
    } catch (const std::exception&) {
      throw Error(path + ":" + std::to_string(i + 1) + ": expected \"<itr>: <value>\", got \"" + line.substr(0, 80) + "\"");
    }
  }
  return out;
}

void read_biggan_pytorch(const fs::path& folder, const fs::path& test_log, RunLogs& run) {
  run.format = "biggan-pytorch";
  run.name = folder.filename().string();
  run.path = folder.string();
  std::map<std::int64_t, Row> train, sv;
  if (fs::is_directory(folder))
    for (const auto& entry : fs::directory_iterator(folder)) {
      if (entry.path().extension() != ".log") continue;
      const std::string metric = entry.path().stem().string();
      const auto values = read_mylogger(entry.path().string(), run.notes);
      // SV logs are named from the state_dict key: G_<layer>_sv<k>, D_<layer>_sv<k>.
      const bool is_sv = metric.size() > 2 && (metric[0] == 'G' || metric[0] == 'D') && metric[1] == '_' &&
                         metric.find("_sv") != std::string::npos && metric != "G_loss";
      auto& target = is_sv ? sv : train;
      const std::string key = is_sv ? std::string(1, metric[0]) + "/" + metric.substr(2) : metric;
      for (const auto& [itr, v] : values) {
        target[itr].itr = itr;
        target[itr].values[key] = v;
      }
    }
  for (auto& [itr, r] : train) run.train.push_back(std::move(r));
  for (auto& [itr, r] : sv) run.sv.push_back(std::move(r));
  if (fs::exists(test_log))
    for (const auto& [where, j] : read_jsonl(test_log.string(), run.notes)) run.eval.push_back(row_from(j, where, "_stamp"));
}

bool has_mylogger_files(const fs::path& dir) {
  if (!fs::is_directory(dir)) return false;
  if (fs::exists(dir / "metalog.txt")) return true;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log") return true;
  return false;
}

}  // namespace

Row::Row() : time(kNaN) {}

RunLogs read_run(const std::string& path_in) {
  const fs::path path = fs::path(path_in).lexically_normal();
  if (!fs::exists(path)) throw Error(path_in + ": no such run folder or log file");
  RunLogs run;
  const std::string suffix = "_log.jsonl";
  const std::string file = path.filename().string();
  if (fs::is_regular_file(path) && file.size() > suffix.size() &&
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0) {
    // BigGAN-PyTorch's test log; its MyLogger folder sits beside it.
    const std::string exp = file.substr(0, file.size() - suffix.size());
    read_biggan_pytorch(path.parent_path() / exp, path, run);
    run.name = exp;
  } else if (fs::is_directory(path) && (fs::exists(path / "logs" / "metrics.jsonl") || fs::exists(path / "logs" / "events.jsonl"))) {
    read_ours(path, run);
  } else if (fs::is_directory(path) && path.filename() == "logs" && fs::exists(path / "metrics.jsonl")) {
    read_ours(path.parent_path(), run);
  } else if (has_mylogger_files(path)) {
    const fs::path dir = path.filename().empty() ? path.parent_path() : path;
    read_biggan_pytorch(dir, dir.parent_path() / (dir.filename().string() + suffix), run);
  } else {
    throw Error(path_in + ": not a run: expected a biggan run folder (with logs/metrics.jsonl), BigGAN-PyTorch's "
                "logs/<experiment>/ folder (*.log, metalog.txt) or its <experiment>_log.jsonl");
  }
  if (run.train.empty() && run.eval.empty())
    throw Error(path_in + ": the run has no logged iterations yet (" +
                (run.format == "biggan" ? std::string("logs/metrics.jsonl is missing or empty")
                                        : std::string("no G_loss.log lines and no test log")) +
                ")");
  return run;
}

Series series(const std::vector<Row>& rows, const std::string& key) {
  Series s;
  for (const auto& r : rows) {
    const auto it = r.values.find(key);
    if (it == r.values.end()) continue;
    s.x.push_back(static_cast<double>(r.itr));
    s.y.push_back(it->second);
  }
  return s;
}

std::vector<std::string> keys(const std::vector<Row>& rows) {
  std::set<std::string> all;
  for (const auto& r : rows)
    for (const auto& kv : r.values) all.insert(kv.first);
  return {all.begin(), all.end()};
}

}  // namespace biggan::analysis
