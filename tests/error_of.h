// The message of the biggan::Error a call throws, so that a test checks an error path in one
// EXPECT: a call that throws nothing gives "(no error)", which no expected message contains,
// and any other exception escapes to GoogleTest as a failure.
#pragma once

#include <functional>
#include <string>

#include "core/error.h"

namespace biggan::testing {

inline std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace biggan::testing
