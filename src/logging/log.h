// Rank-aware logging. Rank 0 writes info and above to the console; other ranks only warnings
// and errors, prefixed with their rank and host, so an 8-rank job does not print everything 8 times.
// With log.rank_files every rank also appends everything to its own file.
#pragma once

#include <sstream>
#include <string>

namespace biggan::logging {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

struct Settings {
  int rank = 0;
  int world_size = 1;
  std::string host;
  Level level = Level::info;
  std::string rank_file;  // empty: no per-rank file
};

// Not thread-safe against concurrent logging; call at start-up.
void configure(const Settings& settings);
const Settings& settings();

void write(Level level, const std::string& message);
inline void debug(const std::string& m) { write(Level::debug, m); }
inline void info(const std::string& m) { write(Level::info, m); }
inline void warn(const std::string& m) { write(Level::warn, m); }
inline void error(const std::string& m) { write(Level::error, m); }

// Console output from rank 0 only, without decoration (tables, resolved configs).
void print0(const std::string& text);

}  // namespace biggan::logging
