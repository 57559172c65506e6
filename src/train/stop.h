// Stopping cleanly: a signal (SIGUSR2 by default, SIGTERM, SIGINT) or the job's own deadline
// sets a flag; the trainer checks it at every iteration boundary, all ranks agree through an
// allreduce, and the run checkpoints and exits with kRequeueExitCode.
#pragma once

#include <string>

#include "config/choices.h"

namespace biggan::train {

// "Stopped cleanly; requeue me." The Slurm script keys on it (slurm/README.md).
constexpr int kRequeueExitCode = 3;

// From the start of `biggan train` until install_stop_signals, the stop signals whose default
// action ends a process (SIGUSR1, SIGUSR2, SIGHUP) are caught and remembered: a stop request that
// reaches ranks still starting up (Slurm's script passes one on as soon as the step is launched)
// is then honoured at the first iteration boundary, instead of killing them with an exit status
// the script takes for a failure. SIGTERM and SIGINT still end a start-up at once.
void hold_stop_signals();
// Installs handlers for `signal` (ckpt.stop_signal), SIGTERM and SIGINT, and gives the other held
// signals their default action back; one of those that arrived while held acts now. Further
// signals while stopping only set the flag again.
void install_stop_signals(config::StopSignal signal);
bool stop_requested();
int stop_signal_number();  // the last signal received; 0: none
void reset_stop_request();  // tests

// Seconds until the job must be gone: Slurm's SLURM_JOB_END_TIME when set, else `walltime_minutes`
// after `start_epoch_seconds` (0 minutes: no deadline, +infinity).
double seconds_until_deadline(double start_epoch_seconds, int walltime_minutes);

}  // namespace biggan::train
