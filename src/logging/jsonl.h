// JSON-lines logs (metrics.jsonl, sv.jsonl, events.jsonl): one object per line, flushed per
// line so that a run that is killed keeps everything up to its last line, and readers that
// follow a live run see whole lines (a torn last line is skipped by readers).
#pragma once

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace biggan::logging {

class JsonlWriter {
 public:
  JsonlWriter() = default;
  explicit JsonlWriter(const std::string& path);
  bool is_open() const { return out_.is_open(); }
  void write(const nlohmann::json& line);
  // A line already formatted as JSON (a format with a fixed key order, e.g. BigGAN-PyTorch's).
  void write_line(const std::string& line);

 private:
  std::string path_;
  std::ofstream out_;
};

// A resumed run continues from iteration `itr`: drop what the interrupted run logged after
// it (and a torn last line), so the log reads as one uninterrupted run. Rewritten atomically.
void keep_lines_up_to(const std::string& path, std::int64_t itr);

}  // namespace biggan::logging
