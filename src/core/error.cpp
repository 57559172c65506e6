#include "core/error.h"

#include <new>

namespace biggan {

namespace {

// "file:line: key: message"; a key that no file or --set gave (where "default", Config::where)
// reads "key (not set): message", not as if a file named "default" had set it.
std::string config_error_text(const std::string& where, const std::string& key, const std::string& message) {
  if (where == "default" && !key.empty()) return key + " (not set): " + message;
  return (where.empty() ? std::string() : where + ": ") + (key.empty() ? std::string() : key + ": ") + message;
}

// LibTorch's allocators say "CUDA out of memory", "DefaultCPUAllocator: can't allocate memory"
// (Debian's 1.13) or "... not enough memory" (2.x); the standard library throws bad_alloc.
bool is_out_of_memory(const std::exception& e, const std::string& message) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return true;
  for (const char* sign : {"out of memory", "can't allocate memory", "not enough memory"})
    if (message.find(sign) != std::string::npos) return true;
  return false;
}

}  // namespace

ConfigError::ConfigError(const std::string& where, const std::string& key, const std::string& message)
    : Error(config_error_text(where, key, message)), where_(where), key_(key) {}

std::string user_message(const std::exception& e) {
  std::string message = e.what();
  // "Exception raised from ..." follows a TORCH_CHECK; an enforce failure (an allocator's)
  // carries a bare backtrace of "frame #N:" lines.
  for (const char* stack : {"\nException raised from ", "\nframe #0: "}) {
    const auto at = message.find(stack);
    if (at != std::string::npos) message.erase(at);
  }
  if (is_out_of_memory(e, message))
    message += "\nOut of memory. Training: a smaller train.batch_size needs less, and train.global_batch_size (or "
               "more num_D_accumulations and num_G_accumulations) keeps the global batch; on a GPU, "
               "model.G_precision and D_precision: bf16 halve the activations. Other commands: a smaller --batch-size "
               "(generate, inception-moments, classifier) or --set train.G_batch_size (sample).";
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
