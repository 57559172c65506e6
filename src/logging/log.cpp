#include "logging/log.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>

#include "core/error.h"

namespace biggan::logging {

namespace {

Settings g_settings;
std::mutex g_mutex;
std::ofstream g_rank_file;

const char* level_name(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warning";
    case Level::error: return "error";
  }
  return "?";
}

std::string timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

void configure(const Settings& settings) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_settings = settings;
  if (g_rank_file.is_open()) g_rank_file.close();
  if (!settings.rank_file.empty()) {
    g_rank_file.open(settings.rank_file, std::ios::app);
    if (!g_rank_file) throw Error("cannot open log file " + settings.rank_file + " for appending");
  }
}

const Settings& settings() { return g_settings; }

void write(Level level, const std::string& message) {
  if (level < g_settings.level) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_rank_file.is_open()) {
    g_rank_file << timestamp() << " rank " << g_settings.rank << " " << level_name(level) << ": " << message << "\n";
    g_rank_file.flush();
  }
  const bool is_root = g_settings.rank == 0;
  if (!is_root && level < Level::warn) return;
  std::string prefix;
  if (g_settings.world_size > 1 && !is_root)
    prefix = "[rank " + std::to_string(g_settings.rank) + (g_settings.host.empty() ? "" : " on " + g_settings.host) + "] ";
  if (level >= Level::warn) {
    std::cout.flush();
    std::cerr << prefix << level_name(level) << ": " << message << std::endl;
  } else {
    std::cout << prefix << message << std::endl;
  }
}

void print0(const std::string& text) {
  if (g_settings.rank != 0) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::cout << text;
  std::cout.flush();
}

}  // namespace biggan::logging
