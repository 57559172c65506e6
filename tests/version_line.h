// One line of `biggan --version`, as the executable prints it under a given environment: tests
// that check what the executable chose at start (BLAS kernels, oneDNN's ISA) read it there.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace biggan::testing {

// What a shell command prints on stdout (add 2>&1 for stderr too).
inline std::string command_output(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  char buffer[512];
  while (pipe && fgets(buffer, sizeof buffer, pipe.get())) out += buffer;
  return out;
}

// `environment` is an `env` argument list (unset and set variables); `prefix` starts the line,
// e.g. "  BLAS     ". Returns the whole output where no line starts so, for the failure message.
inline std::string version_line(const std::string& environment, const std::string& prefix) {
  const std::string out = command_output("env " + environment + " " + BIGGAN_BINARY + " --version 2>&1");
  const auto at = out.find(prefix);
  return at == std::string::npos ? out : out.substr(at, out.find('\n', at) - at);
}

}  // namespace biggan::testing
