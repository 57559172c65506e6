#include "train/lr_schedule.h"

#include <string>

#include "core/error.h"

namespace biggan::train {

double learning_rate_factor(config::LrSchedule schedule, std::int64_t decay_start, std::int64_t itr, std::int64_t total) {
  switch (schedule) {
    case config::LrSchedule::constant: return 1.0;
    case config::LrSchedule::linear_decay: {
      if (decay_start < 0 || decay_start >= total)
        throw Error("learning_rate_factor: the decay must start in [0, " + std::to_string(total) + "), got " +
                    std::to_string(decay_start));
      if (itr < 1 || itr > total)
        throw Error("learning_rate_factor: iteration " + std::to_string(itr) + " is outside the run's 1.." +
                    std::to_string(total));
      if (itr <= decay_start) return 1.0;
      return static_cast<double>(total - itr + 1) / static_cast<double>(total - decay_start);
    }
  }
  throw Error("learning_rate_factor: invalid LrSchedule " + std::to_string(static_cast<int>(schedule)));
}

}  // namespace biggan::train
