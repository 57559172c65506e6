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
}  // namespace

void install_stop_signals(const std::string& name) {
  static const std::map<std::string, int> signals{{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"TERM", SIGTERM},
                                                  {"INT", SIGINT},   {"HUP", SIGHUP},   {"URG", SIGURG}};
  const auto it = signals.find(name);
  if (it == signals.end()) throw Error("ckpt.stop_signal: unknown signal '" + name + "' (USR1 | USR2 | TERM | INT | HUP | URG)");
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (const int s : {it->second, SIGTERM, SIGINT}) sigaction(s, &action, nullptr);
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
