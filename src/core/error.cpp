#include "core/error.h"

namespace biggan {

ConfigError::ConfigError(const std::string& where, const std::string& key, const std::string& message)
    : Error((where.empty() ? std::string() : where + ": ") + (key.empty() ? std::string() : key + ": ") + message),
      where_(where),
      key_(key) {}

std::string user_message(const std::exception& e) {
  std::string message = e.what();
  const auto stack = message.find("\nException raised from ");
  if (stack != std::string::npos) message.erase(stack);
  return message;
}

namespace detail {
void throw_check_failure(const char* file, int line, const std::string& message) {
  // The source position helps us; the message itself must already help the user.
  std::string f(file);
  const auto slash = f.find("src/");
  if (slash != std::string::npos) f = f.substr(slash);
  throw Error(message + " [" + f + ":" + std::to_string(line) + "]");
}
}  // namespace detail

}  // namespace biggan
