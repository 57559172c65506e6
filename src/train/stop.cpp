#include "train/stop.h"

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <map>

#include "core/error.h"

namespace biggan::train {

namespace {
volatile std::sig_atomic_t g_signal = 0;

extern "C" void on_stop_signal(int signal) { g_signal = signal; }


int signal_number(config::StopSignal signal) {
  switch (signal) {
    case config::StopSignal::USR1: return SIGUSR1;
    case config::StopSignal::USR2: return SIGUSR2;
    case config::StopSignal::TERM: return SIGTERM;
    case config::StopSignal::INT: return SIGINT;
    case config::StopSignal::HUP: return SIGHUP;
    case config::StopSignal::URG: return SIGURG;
  }
  throw Error("install_stop_signals: invalid StopSignal " + std::to_string(static_cast<int>(signal)));
}

// The stop signals whose default action ends a process; TERM and INT are left to end a start-up.
constexpr int kHeldSignals[] = {SIGUSR1, SIGUSR2, SIGHUP};

void set_handler(int s, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(s, &action, nullptr);
}

}  // namespace

void hold_stop_signals() {
  for (const int s : kHeldSignals) set_handler(s, on_stop_signal);
}

void install_stop_signals(config::StopSignal signal) {
  const int stop = signal_number(signal);
  for (const int s : {stop, SIGTERM, SIGINT}) set_handler(s, on_stop_signal);
  for (const int s : kHeldSignals) {
    if (s == stop) continue;
    set_handler(s, SIG_DFL);
    // Held during the start-up but not this run's stop signal: it acts now as it would have then.
    if (g_signal == s) {
      g_signal = 0;
      std::raise(s);
    }
  }
}

bool stop_requested() { return g_signal != 0; }
int stop_signal_number() { return static_cast<int>(g_signal); }
void reset_stop_request() { g_signal = 0; }

double seconds_until_deadline(double start_epoch_seconds, int walltime_minutes) {
  const double now = static_cast<double>(std::time(nullptr));
  if (const char* end = std::getenv("SLURM_JOB_END_TIME")) {
    char* rest = nullptr;
    const double t = std::strtod(end, &rest);
    if (rest != end && t > 0) return t - now;
  }
  if (walltime_minutes > 0) return start_epoch_seconds + 60.0 * walltime_minutes - now;
  return std::numeric_limits<double>::infinity();
}

}  // namespace biggan::train
