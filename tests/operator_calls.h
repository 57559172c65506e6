// What LibTorch's legacy profiler records while some work runs, for tests that count the
// operators a piece of code calls (each call is host work, and on a GPU often a kernel launch).
#pragma once

#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace biggan::testing {

// The profiler's events while `work` runs, a list per thread it used (autograd's too).
inline torch::autograd::profiler::thread_event_lists recorded_events(const std::function<void()>& work) {
  namespace profiler = torch::autograd::profiler;
  profiler::thread_event_lists events;
  {
    profiler::TLSLegacyProfilerGuard recording(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU),
        [&events](const profiler::thread_event_lists& lists) { events = lists; });
    work();
  }
  return events;
}

// The operators `work` ran, in the order they started.
inline std::vector<std::string> operators_run(const std::function<void()>& work) {
  std::vector<std::pair<double, std::string>> started;
  for (const auto& list : recorded_events(work))
    for (const auto& e : list)
      if (e.kind() == torch::autograd::profiler::EventKind::PushRange) started.emplace_back(e.cpuUs(), e.name());
  std::stable_sort(started.begin(), started.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> names;
  for (auto& [us, name] : started) names.push_back(std::move(name));
  return names;
}

// How often `work` called each operator from each caller: "name <- caller", where the caller is
// the enclosing operator ("" at the top level, called by our code).
inline std::map<std::string, int> calls_by_caller(const std::function<void()>& work) {
  std::map<std::string, int> calls;
  for (const auto& list : recorded_events(work)) {
    std::vector<std::string> open;
    for (const auto& e : list) {
      if (e.kind() == torch::autograd::profiler::EventKind::PushRange) {
        ++calls[std::string(e.name()) + " <- " + (open.empty() ? "" : open.back())];
        open.emplace_back(e.name());
      } else if (e.kind() == torch::autograd::profiler::EventKind::PopRange && !open.empty()) {
        open.pop_back();
      }
    }
  }
  return calls;
}

// How often `calls` (from calls_by_caller) holds "name <- caller"; 0 when never.
inline int calls_of(const std::map<std::string, int>& calls, const std::string& name_and_caller) {
  const auto it = calls.find(name_and_caller);
  return it == calls.end() ? 0 : it->second;
}

}  // namespace biggan::testing
