// Damage on purpose: one bit of a stored value flipped in place, as a bad sector or a bad copy
// leaves it, so that a test can check the reader notices instead of loading another number; and
// random mutations of a file's bytes for the fuzzing tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <exception>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

#include "core/error.h"

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

// One fuzzing mutation of `bytes`: 1 to 8 bytes replaced by random ones, or bits flipped, or set
// to extreme values (0, 0x7f, 0x80, 0xff, 1), or the data cut at a random point.
inline std::string mutate(std::string bytes, std::mt19937& rng) {
  const int kind = static_cast<int>(rng() % 4);
  const int count = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < count && !bytes.empty(); ++i) {
    const std::size_t at = rng() % bytes.size();
    if (kind == 0) {
      bytes[at] = static_cast<char>(rng());
    } else if (kind == 1) {
      bytes[at] = static_cast<char>(bytes[at] ^ (1 << (rng() % 8)));
    } else if (kind == 2) {
      bytes.resize(at);
      break;
    } else {
      static const char extremes[] = {0, 0x7f, static_cast<char>(0x80), static_cast<char>(0xff), 1};
      bytes[at] = extremes[rng() % 5];
    }
  }
  return bytes;
}

struct MutationOutcomes {
  int loaded = 0;
  int refused = 0;
};

// Calls `load(damaged, i)` on `count` mutations of `bytes`. Each must load or throw a
// biggan::Error whose message contains `named` (the file's name); anything else fails the test
// and ends the loop.
template <class Load>
MutationOutcomes load_mutations(const std::string& bytes, std::mt19937& rng, int count, const std::string& named,
                                Load&& load) {
  MutationOutcomes outcomes;
  for (int i = 0; i < count; ++i) {
    const std::string damaged = mutate(bytes, rng);
    try {
      load(damaged, i);
      ++outcomes.loaded;
    } catch (const Error& e) {
      if (std::string(e.what()).find(named) == std::string::npos) {
        ADD_FAILURE() << "mutation " << i << ": the error does not name " << named << ": " << e.what();
        return outcomes;
      }
      ++outcomes.refused;
    } catch (const std::exception& e) {
      ADD_FAILURE() << named << " mutation " << i << ": not a biggan::Error: " << e.what();
      return outcomes;
    }
  }
  return outcomes;
}

}  // namespace biggan::testing
