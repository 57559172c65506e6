#include "cli/allocation_guard.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>

#include <utility>

#include "core/error.h"
#include "core/memory.h"

namespace biggan::cli {

void check_allocation(std::size_t bytes, std::uint64_t ceiling_bytes, const std::string& ceiling_source) {
  if (bytes <= ceiling_bytes) return;
  // "out of memory" brings user_message's advice on what to make smaller.
  throw Error("one tensor of " + core::format_bytes(static_cast<double>(bytes)) +
              " is more than this machine can ever hold (" + core::format_bytes(static_cast<double>(ceiling_bytes)) +
              ": " + ceiling_source + "): out of memory, refused before it could fill memory");
}

namespace {

class GuardedAllocator final : public c10::Allocator {
 public:
  GuardedAllocator(c10::Allocator* inner, core::HostMemory ceiling) : inner_(inner), ceiling_(std::move(ceiling)) {}
  c10::DataPtr allocate(std::size_t bytes) const override {
    check_allocation(bytes, ceiling_.available_bytes, ceiling_.source);
    return inner_->allocate(bytes);
  }
  c10::DeleterFnPtr raw_deleter() const override { return inner_->raw_deleter(); }

 private:
  c10::Allocator* inner_;
  core::HostMemory ceiling_;
};

std::uint64_t install_guard() {
  const auto ceiling = core::host_memory_ceiling();
  if (!ceiling) return 0;
  // Lives as long as the process: tensors freed at exit still go through its deleter.
  static GuardedAllocator guard(c10::GetCPUAllocator(), *ceiling);
  c10::SetCPUAllocator(&guard, /*priority=*/1);  // above LibTorch's default (0)
  return ceiling->available_bytes;
}

}  // namespace

std::uint64_t guard_cpu_allocations() {
  static const std::uint64_t installed = install_guard();  // once per process, thread-safe
  return installed;
}

}  // namespace biggan::cli
