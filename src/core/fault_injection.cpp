#include "core/fault_injection.h"

#include <cstdlib>
#include <sstream>
#include <vector>

namespace biggan {

bool fault_armed(const std::string& name, int rank, std::int64_t iteration) {
  const char* spec = std::getenv("BIGGAN_TEST_FAULT");
  if (!spec) return false;
  std::vector<std::string> parts;
  std::stringstream in(spec);
  for (std::string part; std::getline(in, part, '@');) parts.push_back(part);
  if (parts.size() < 2 || parts[0] != name || std::atoi(parts[1].c_str()) != rank) return false;
  return parts.size() < 3 || std::atoll(parts[2].c_str()) == iteration;
}

}  // namespace biggan
