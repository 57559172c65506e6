#include "config/choices.h"

#include "core/error.h"
#include "core/suggest.h"

namespace biggan::config {

std::string unknown_choice_message(const std::string& name, const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& n : allowed) list += (list.empty() ? "" : ", ") + n;
  return "unknown value '" + name + "'" + did_you_mean(name, allowed) + "; expected one of: " + list;
}

void throw_unknown_choice(const std::string& option, const std::string& name, const std::vector<std::string>& allowed) {
  throw UsageError(option + ": " + unknown_choice_message(name, allowed));
}

}  // namespace biggan::config
