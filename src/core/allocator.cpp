#include "core/allocator.h"

#ifdef BIGGAN_WITH_JEMALLOC
#include <jemalloc/jemalloc.h>
#include <sys/types.h>

// jemalloc reads this global at its start, before main: freed pages are never returned to the
// kernel (no decay to "dirty", then "muzzy", then purged), so that the next step's tensors of the
// same sizes reuse them without page faults. The peak resident size is unchanged: it is the
// step's own peak. MALLOC_CONF in the environment still applies on top.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "dirty_decay_ms:-1,muzzy_decay_ms:-1";
}
#endif

namespace biggan::core {

#ifdef BIGGAN_WITH_JEMALLOC
namespace {
bool read_decay(const char* name, ssize_t& out) {
  std::size_t size = sizeof(out);
  return mallctl(name, &out, &size, nullptr, 0) == 0;
}
}  // namespace
#endif

std::string allocator_description() {
#ifdef BIGGAN_WITH_JEMALLOC
  const char* version = nullptr;
  std::size_t size = sizeof(version);
  ssize_t dirty = 0, muzzy = 0;
  if (mallctl("version", &version, &size, nullptr, 0) == 0 && version && read_decay("opt.dirty_decay_ms", dirty) &&
      read_decay("opt.muzzy_decay_ms", muzzy))
    return "jemalloc " + std::string(version) + " (dirty_decay_ms " + std::to_string(dirty) + ", muzzy_decay_ms " +
           std::to_string(muzzy) + ")";
#endif
  return "glibc malloc";
}

bool allocator_keeps_freed_memory() {
#ifdef BIGGAN_WITH_JEMALLOC
  ssize_t dirty = 0, muzzy = 0;
  return read_decay("opt.dirty_decay_ms", dirty) && read_decay("opt.muzzy_decay_ms", muzzy) && dirty < 0 &&
         muzzy < 0;
#else
  return false;
#endif
}

}  // namespace biggan::core
