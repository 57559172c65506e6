// Faults that the reliability tests cause on purpose, on one rank only, where nothing outside
// the process can cause them (all ranks of a test share one host and one file system).
// BIGGAN_TEST_FAULT="<name>@<rank>[@<iteration>]" arms one; unset (always, outside tests): none.
//   unreadable_checkpoint@1     rank 1 cannot read the checkpoint rank 0 chose
//   perturb_parameter@1@5       rank 1 changes one G parameter after iteration 5
//   stop_signal_during_start@1  rank 1 gets SIGUSR2 while it starts up, before any training
#pragma once

#include <cstdint>
#include <string>

namespace biggan {

// Whether fault `name` is armed for `rank` (and, when it names one, for `iteration`).
bool fault_armed(const std::string& name, int rank, std::int64_t iteration = -1);

}  // namespace biggan
