#include "logging/jsonl.h"

#include <filesystem>
#include <sstream>

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

void keep_lines_up_to(const std::string& path, std::int64_t itr) {
  if (!std::filesystem::exists(path)) return;
  std::istringstream in(read_file(path));
  std::string kept, line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline: a torn last line
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("itr") && j["itr"].get<std::int64_t>() > itr) continue;
    } catch (const nlohmann::json::exception&) {
      continue;
    }
    kept += line + "\n";
  }
  write_file_atomically(path, kept);
}

}  // namespace biggan::logging
