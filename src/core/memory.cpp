#include "core/memory.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

namespace biggan::core {

namespace {

std::optional<std::uint64_t> read_number(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max") return std::nullopt;  // v2 writes "max" for no limit
  try {
    return std::stoull(word);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// A "key value" line of /proc/meminfo (kB) or a cgroup's memory.stat (bytes).
std::optional<std::uint64_t> read_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    std::uint64_t value = 0;
    if (fields >> name >> value && (name == key || name == key + ":")) return value;
  }
  return std::nullopt;
}

struct CgroupDir {
  std::string mount;  // where the hierarchy is mounted
  std::string path;   // the process's cgroup inside it, from /proc/self/cgroup
  bool v2 = false;
};

// The memory hierarchies this process belongs to: v2's "0::/path" and v1's "N:...memory...:/path".
std::vector<CgroupDir> memory_cgroups(const std::string& root) {
  std::vector<CgroupDir> dirs;
  std::ifstream in(root + "/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      // Unified at /sys/fs/cgroup, or beside v1 at /sys/fs/cgroup/unified (hybrid).
      for (const char* mount : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        dirs.push_back({root + mount, path, true});
    } else {
      std::istringstream list(controllers);
      std::string controller;
      while (std::getline(list, controller, ','))
        if (controller == "memory") dirs.push_back({root + "/sys/fs/cgroup/memory", path, false});
    }
  }
  return dirs;
}

// The folders of this cgroup and of every one above it, up to the hierarchy's root.
std::vector<std::string> cgroup_levels(const CgroupDir& d) {
  std::vector<std::string> levels;
  std::string path = d.path;
  while (true) {
    levels.push_back(d.mount + (path == "/" ? "" : path));
    if (path.empty() || path == "/") break;
    const auto slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
  return levels;
}

std::string limit_file(const CgroupDir& d) { return d.v2 ? "/memory.max" : "/memory.limit_in_bytes"; }

// Limit minus the usage that cannot be reclaimed, for this cgroup and every one above it.
std::optional<std::uint64_t> cgroup_headroom(const CgroupDir& d, std::string& where) {
  std::optional<std::uint64_t> least;
  for (const auto& dir : cgroup_levels(d)) {
    const auto limit = read_number(dir + limit_file(d));
    const auto usage = read_number(dir + (d.v2 ? "/memory.current" : "/memory.usage_in_bytes"));
    if (limit && usage) {
      auto inactive = read_field(dir + "/memory.stat", d.v2 ? "inactive_file" : "total_inactive_file");
      if (!inactive && !d.v2) inactive = read_field(dir + "/memory.stat", "inactive_file");
      const std::uint64_t used = *usage - std::min(*usage, inactive.value_or(0));
      const std::uint64_t headroom = *limit > used ? *limit - used : 0;
      if (!least || headroom < *least) {
        least = headroom;
        where = dir + limit_file(d);
      }
    }
  }
  return least;
}

// The least limit of this cgroup and every one above it.
std::optional<std::uint64_t> cgroup_limit(const CgroupDir& d, std::string& where) {
  std::optional<std::uint64_t> least;
  for (const auto& dir : cgroup_levels(d)) {
    const auto limit = read_number(dir + limit_file(d));
    if (limit && (!least || *limit < *least)) {
      least = limit;
      where = dir + limit_file(d);
    }
  }
  return least;
}

}  // namespace

std::optional<HostMemory> available_host_memory(const std::string& root) {
  const std::string meminfo = root + "/proc/meminfo";
  const auto available_kb = read_field(meminfo, "MemAvailable");
  if (!available_kb) return std::nullopt;
  HostMemory m;
  m.available_bytes = (*available_kb + read_field(meminfo, "SwapFree").value_or(0)) * 1024;
  m.source = "MemAvailable + SwapFree in /proc/meminfo";
  for (const auto& dir : memory_cgroups(root)) {
    std::string where;
    const auto headroom = cgroup_headroom(dir, where);
    if (headroom && *headroom < m.available_bytes) {
      m.available_bytes = *headroom;
      m.source = "the memory cgroup's limit less its usage, " + where;
    }
  }
  return m;
}

std::optional<HostMemory> host_memory_ceiling(const std::string& root) {
  const std::string meminfo = root + "/proc/meminfo";
  const auto total_kb = read_field(meminfo, "MemTotal");
  if (!total_kb) return std::nullopt;
  const std::uint64_t swap = read_field(meminfo, "SwapTotal").value_or(0) * 1024;
  HostMemory m;
  m.available_bytes = *total_kb * 1024 + swap;
  m.source = "MemTotal + SwapTotal in /proc/meminfo";
  for (const auto& dir : memory_cgroups(root)) {
    std::string where;
    const auto limit = cgroup_limit(dir, where);
    // v1 writes its "no limit" as a number near 2^63: the sum must not wrap.
    if (limit && *limit < m.available_bytes && *limit + swap < m.available_bytes) {
      m.available_bytes = *limit + swap;
      m.source = "the memory cgroup's limit, " + where + (swap ? ", plus SwapTotal" : "");
    }
  }
  return m;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 6) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0) std::snprintf(text, sizeof text, "%.0f B", bytes);
  else std::snprintf(text, sizeof text, bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s" : "%.0f %s", bytes, units[unit]);
  return text;
}

}  // namespace biggan::core
