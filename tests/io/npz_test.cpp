// .npz files: our writer and reader agree, numpy reads what we write, and we read numpy's
// np.savez output (Debian's python3-numpy; skipped without it). Bad files are named.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../damage.h"
#include "../error_of.h"
#include "core/error.h"
#include "io/npz.h"

namespace biggan::io {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char pattern[] = "/tmp/biggan_npz.XXXXXX";
    path = mkdtemp(pattern);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

bool have_numpy() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

TEST(Npz, RoundTripsEveryDtype) {
  TempDir tmp;
  const std::map<std::string, torch::Tensor> arrays{
      {"mu", torch::randn({7})},
      {"sigma", torch::randn({3, 5}, torch::kFloat64)},
      {"x", torch::randint(0, 255, {2, 3, 4, 4}).to(torch::kUInt8)},
      {"y", torch::arange(5, torch::kInt64)},
      {"scalar", torch::tensor(2.5, torch::kFloat64)}};
  write_npz(tmp.path + "/a.npz", arrays);
  const auto back = read_npz(tmp.path + "/a.npz");
  ASSERT_EQ(back.size(), arrays.size());
  for (const auto& [name, t] : arrays) {
    ASSERT_TRUE(back.count(name)) << name;
    EXPECT_EQ(back.at(name).scalar_type(), t.scalar_type()) << name;
    EXPECT_TRUE(torch::equal(back.at(name), t)) << name;
  }
}

TEST(Npz, NumpyReadsOursAndWeReadNumpys) {
  if (!have_numpy()) GTEST_SKIP() << "Debian's python3-numpy is not installed";
  TempDir tmp;
  write_npz(tmp.path + "/ours.npz", {{"mu", torch::arange(4, torch::kFloat32) / 2}, {"sigma", torch::eye(3, torch::kFloat64)}});
  const std::string script =
      "import numpy as np, sys\n"
      "d = np.load(sys.argv[1] + '/ours.npz')\n"
      "assert d['mu'].dtype == np.float32 and list(d['mu']) == [0, 0.5, 1, 1.5]\n"
      "assert d['sigma'].dtype == np.float64 and (d['sigma'] == np.eye(3)).all()\n"
      "np.savez(sys.argv[1] + '/theirs.npz', x=np.arange(12, dtype=np.uint8).reshape(3, 4), f=np.float64([1.25, -2]))\n";
  std::ofstream(tmp.path + "/check.py") << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + tmp.path + "/check.py " + tmp.path).c_str()), 0);
  const auto theirs = read_npz(tmp.path + "/theirs.npz");
  EXPECT_TRUE(torch::equal(theirs.at("x"), torch::arange(12, torch::kInt64).to(torch::kUInt8).view({3, 4})));
  EXPECT_TRUE(torch::equal(theirs.at("f"), torch::tensor({1.25, -2.0}, torch::kFloat64)));
}

TEST(Npz, BadFilesAreNamed) {
  TempDir tmp;
  std::ofstream(tmp.path + "/bad.npz") << "not a zip";
  try {
    read_npz(tmp.path + "/bad.npz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.npz"), std::string::npos);
  }
  EXPECT_THROW(parse_npy(std::string("\x93NUMPY\x01\x00", 8), "x.npy"), Error);  // header cut off
  // A flipped byte inside an array (reference moments, say) is a CRC error naming the array.
  const std::string path = tmp.path + "/moments.npz";
  write_npz(path, {{"mu", torch::full({512}, 0.25, torch::kFloat64)}});
  ASSERT_TRUE(testing::flip_stored_value(path, 0.25, 7, 0x01, fs::file_size(path) / 2));
  try {
    read_npz(path);
    FAIL() << "a flipped byte loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ": record mu.npy fails its CRC-32 check"), std::string::npos) << e.what();
  }
}

// A version-1 .npy with this header text and `data` after it.
std::string npy_with_header(const std::string& header, const std::string& data) {
  const std::string text = header + "\n";
  return std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(text.size() & 0xff) + static_cast<char>(text.size() >> 8) +
         text + data;
}

std::string npy_error(const std::string& bytes) {
  return testing::error_of([&] { parse_npy(bytes, "mu.npy"); });
}

// A damaged shape is refused before anything is allocated: neither a 128 PB array nor one whose
// byte count overflows 64 bits (which wraps to a size that could match the data).
TEST(Npz, AShapeBeyondTheDataIsRefusedBeforeAllocating) {
  const std::string data(32, '\0');
  EXPECT_EQ(parse_npy(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", data), "ok.npy").numel(), 4);
  for (const std::string shape : {"(4000000000, 4000000000)", "(99999999999999999999, 4)", "(2305843009213693952, 2)",
                                   "(0, 99999999999999999999)"}) {
    const std::string message = npy_error(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }", data));
    EXPECT_NE(message.find("mu.npy: .npy data has 32 bytes, fewer than its header's shape"), std::string::npos)
        << shape << ": " << message;
  }
  EXPECT_NE(npy_error(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", data))
                .find("mu.npy: .npy data has 32 bytes, the header says 24"),
            std::string::npos);
}

}  // namespace
}  // namespace biggan::io
