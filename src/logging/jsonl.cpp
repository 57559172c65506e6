#include "logging/jsonl.h"

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"

namespace biggan::logging {

JsonlWriter::JsonlWriter(const std::string& path) : path_(path), out_(path, std::ios::app) {
  if (!out_) throw Error(path + ": cannot open for appending");
}

void JsonlWriter::write(const nlohmann::json& line) { write_line(line.dump()); }

void JsonlWriter::write_line(const std::string& line) {
  out_ << line << '\n';
  out_.flush();
  if (!out_) throw Error(path_ + ": write failed (disk full?)");
}

namespace {

enum class LineFate { keep, later, damaged };

LineFate fate_of(const std::string& line, std::int64_t itr) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return LineFate::keep;
  const auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return LineFate::damaged;
  if (!j.contains("itr")) return LineFate::keep;
  if (!j["itr"].is_number_integer()) return LineFate::damaged;
  return j["itr"].get<std::int64_t>() > itr ? LineFate::later : LineFate::keep;
}

void append_and_sync(const std::string& path, const std::string& text) {
  const auto dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(path + ": cannot create its folder to keep superseded log lines: " + ec.message());
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << text;
    out.flush();
    if (!out) throw Error(path + ": cannot append the superseded log lines (disk full?)");
  }
  fsync_file(path);
  fsync_directory(dir.string());
}

}  // namespace

Superseded supersede_lines_after(const std::string& path, std::int64_t itr, const std::string& archive) {
  Superseded out;
  if (!std::filesystem::exists(path)) return out;
  const std::string text = read_file(path);
  std::string kept, moved;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t newline = text.find('\n', start);
    const bool torn = newline == std::string::npos;
    const std::string line = text.substr(start, torn ? std::string::npos : newline - start);
    start = torn ? text.size() : newline + 1;
    const LineFate fate = torn ? LineFate::damaged : fate_of(line, itr);
    if (fate == LineFate::keep) {
      kept += line + "\n";
      continue;
    }
    moved += line + "\n";
    ++(fate == LineFate::later ? out.later : out.damaged);
  }
  if (moved.empty()) return out;
  append_and_sync(archive, moved);
  write_file_atomically(path, kept);
  out.archive = archive;
  return out;
}

}  // namespace biggan::logging
