// The learning-rate schedule (optim.lr_schedule). BigGAN-PyTorch keeps both rates constant; a
// linear decay over a run's last iterations lets G settle instead of ending wherever its last
// oscillation left it. In the demo it made G better but not G_ema, which averages the same
// oscillation away (README "Learning-rate decay" and "The demo").
#pragma once

#include <cstdint>

#include "config/choices.h"

namespace biggan::train {

// The multiplier of the configured rates for iteration `itr` (1-based, the iteration about to
// run) of a run of `total` iterations. linear_decay: 1 up to `decay_start`, then falling by equal
// steps to 1 / (total - decay_start) at iteration `total`, so every iteration still updates.
// A function of the iteration alone, so that a resumed run continues with the same rates.
double learning_rate_factor(config::LrSchedule schedule, std::int64_t decay_start, std::int64_t itr, std::int64_t total);

}  // namespace biggan::train
