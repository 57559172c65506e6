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

// What a start took out of one log and moved to its archive.
struct Superseded {
  std::int64_t later = 0;    // whole lines of iterations after the one the run resumes from
  std::int64_t damaged = 0;  // lines that are not a JSON object (a torn last line) or whose "itr" is no integer
  std::string archive;       // where they went (empty when nothing moved)
};

// A resumed run continues from iteration `itr`, so the lines the interrupted run logged after
// it, and any damaged line, leave `path`: it then reads as one uninterrupted run, and a line the
// next append would glue to a torn one cannot make it unreadable. Nothing is deleted: they are
// appended to `archive` (created with its folder) and synced before `path` is rewritten
// atomically. A kill between the two leaves a line in both files, never in neither. Lines without
// an "itr" (events) stay; itr = INT64_MAX moves damaged lines only.
Superseded supersede_lines_after(const std::string& path, std::int64_t itr, const std::string& archive);

}  // namespace biggan::logging
