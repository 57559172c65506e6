// Disk damage on purpose: one bit of a stored value flipped in place, as a bad sector or a bad
// copy leaves it, so that a test can check the reader notices instead of loading another number.
#pragma once

#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>

namespace biggan::testing {

// Flips bit `mask` of byte `byte` of the first copy of `value`'s bytes stored in `path` at or
// after offset `from`. Returns false (the file unchanged) when the value is not there.
template <class T>
bool flip_stored_value(const std::string& path, const T& value, std::size_t byte, unsigned char mask,
                       std::size_t from = 0) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&value), sizeof value), from);
  if (at == std::string::npos || byte >= sizeof value) return false;
  file.clear();
  file.seekp(static_cast<std::streamoff>(at + byte));
  file.put(static_cast<char>(static_cast<unsigned char>(bytes[at + byte]) ^ mask));
  return static_cast<bool>(file.flush());
}

}  // namespace biggan::testing
