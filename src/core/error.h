// Error handling: every failure is an exception carrying enough context (file, key, value,
// rank) for a user to act on it. main() has the one catch; a failing rank aborts the job.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace biggan {

// A user-facing error: bad config, bad input file, bad flag. The message is the whole story.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A bad config value; `where` is "file:line" (or "--set") and `key` is "section.key".
class ConfigError : public Error {
 public:
  ConfigError(const std::string& where, const std::string& key, const std::string& message);
  const std::string& where() const { return where_; }
  const std::string& key() const { return key_; }

 private:
  std::string where_;
  std::string key_;
};

// Thrown by the command line parser; main() exits with status 2 for these, like other CLIs.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// An exception's message as a user should read it. LibTorch appends the C++ call stack to its
// errors ("Exception raised from ... frame #0: ..."), dozens of lines that bury the one that
// says what went wrong; this drops them. An allocation that failed gets what to change.
std::string user_message(const std::exception& e);

namespace detail {
[[noreturn]] void throw_check_failure(const char* file, int line, const std::string& message);
}  // namespace detail

}  // namespace biggan

// Internal invariant or input check. Usage: BIGGAN_CHECK(n > 0, "dataset " << path << " is empty");
#define BIGGAN_CHECK(cond, msg)                                                \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::ostringstream biggan_check_stream_;                                 \
      biggan_check_stream_ << msg;                                             \
      ::biggan::detail::throw_check_failure(__FILE__, __LINE__, biggan_check_stream_.str()); \
    }                                                                          \
  } while (0)
