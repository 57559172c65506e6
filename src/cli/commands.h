// The subcommands of the `biggan` executable. Each takes the arguments after its name and
// returns the exit status; errors are thrown.
#pragma once

#include <string>
#include <vector>

namespace biggan::cli {

using Args = std::vector<std::string>;

int train_command(const Args& args);
int sample_command(const Args& args);
int generate_command(const Args& args);
int prepare_data_command(const Args& args);
int inception_moments_command(const Args& args);
int ckpt_command(const Args& args);
int logs_command(const Args& args);
int classifier_command(const Args& args);
int eval_command(const Args& args);

}  // namespace biggan::cli
