#pragma once

#include <string>

namespace biggan {

// The commit this binary was built from (a "-dirty" suffix for uncommitted changes).
std::string git_hash();

}  // namespace biggan
