#include "core/version.h"

#include "git_hash.h"

namespace biggan {

std::string git_hash() { return BIGGAN_GIT_HASH; }

}  // namespace biggan
