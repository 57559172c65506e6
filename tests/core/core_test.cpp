// The base layer: atomic files, typo suggestions, error context, the allocator and the fault
// switch of the reliability tests.
#include <c10/util/Exception.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/resource.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/allocator.h"
#include "core/atomic_file.h"
#include "core/crash_note.h"
#include "core/error.h"
#include "core/fault_injection.h"
#include "core/suggest.h"
#include "../temp_folder.h"

namespace biggan {
namespace {

namespace fs = std::filesystem;

long minor_page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Allocates, writes every page of and frees one block of `bytes`, as a step's activation does.
void use_block(std::size_t bytes) {
  char* volatile block = static_cast<char*>(std::malloc(bytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, bytes);
  std::free(block);
}

// The reason the executables link jemalloc: a freed 256 MB block (far above glibc's 32 MB mmap
// ceiling) comes back for the next allocation without a page fault per page. With glibc, or
// with jemalloc's default decay (MALLOC_CONF=dirty_decay_ms:0 makes it immediate), the second
// block faults in all of its 65,536 pages again.
TEST(Allocator, AFreedLargeBlockIsReusedWithoutPageFaults) {
#ifndef BIGGAN_WITH_JEMALLOC
  GTEST_SKIP() << "built with -DBIGGAN_JEMALLOC=OFF";
#endif
  EXPECT_TRUE(core::allocator_keeps_freed_memory()) << core::allocator_description();
  EXPECT_NE(core::allocator_description().find("jemalloc 5"), std::string::npos) << core::allocator_description();
  constexpr std::size_t bytes = std::size_t{256} << 20;
  const long pages = static_cast<long>(bytes / static_cast<std::size_t>(sysconf(_SC_PAGESIZE)));
  use_block(bytes);
  const long before = minor_page_faults();
  use_block(bytes);
  EXPECT_LT(minor_page_faults() - before, pages / 20) << core::allocator_description();
}

class AtomicFile : public testing::TempFolderTest {
 protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    dir_ = dir.string();
  }
  std::string dir_;
};

TEST_F(AtomicFile, ReplacesTheWholeFileAndLeavesNoTemporary) {
  const std::string path = dir_ + "/state.json";
  write_file_atomically(path, "old contents");
  write_file_atomically(path, "new");
  EXPECT_EQ(read_file(path), "new");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) entries += e.path().filename() == "state.json" ? 1 : 100;
  EXPECT_EQ(entries, 1) << "a temporary file was left beside the target";
}

TEST_F(AtomicFile, AFailedWriteKeepsTheOldFileAndNamesThePath) {
  if (geteuid() == 0) {
    // Root ignores directory permissions; a path under a regular file cannot be created by anyone.
    const std::string blocker = dir_ + "/not_a_folder";
    write_file_atomically(blocker, "x");
    EXPECT_THROW(write_file_atomically(blocker + "/f", "y"), Error);
    EXPECT_EQ(read_file(blocker), "x");
    return;
  }
  const std::string path = dir_ + "/kept";
  write_file_atomically(path, "precious");
  fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::remove);
  try {
    write_file_atomically(path, "lost?");
    FAIL() << "writing into a read-only folder succeeded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(dir_), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(path), "precious");
}

TEST_F(AtomicFile, WritingIntoAMissingFolderIsAnError) {
  EXPECT_THROW(write_file_atomically(dir_ + "/missing/a.txt", "x"), Error);
  EXPECT_FALSE(fs::exists(dir_ + "/missing"));
}

TEST_F(AtomicFile, ReadingAMissingFileNamesIt) {
  try {
    read_file(dir_ + "/absent.yaml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.yaml"), std::string::npos) << e.what();
  }
}

TEST_F(AtomicFile, CommitRenamesAFinishedFileIntoPlace) {
  const std::string written = dir_ + "/.tmp.h5", path = dir_ + "/final.h5";
  std::ofstream(written) << "payload";
  commit_file(written, path);
  EXPECT_FALSE(fs::exists(written));
  EXPECT_EQ(read_file(path), "payload");
}

TEST(Suggest, ProposesTheClosestNameOnlyForPlausibleTypos) {
  EXPECT_EQ(did_you_mean("batch_sise", {"batch_size", "seed"}), " (did you mean 'batch_size'?)");
  EXPECT_EQ(closest_match("TRAIN", {"train", "sample"}), "train");  // case-insensitive
  EXPECT_EQ(did_you_mean("completely_different", {"seed", "ema"}), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Errors, ConfigErrorsCarryWhereAndKey) {
  const ConfigError e("configs/a.yaml:3", "train.batch_size", "must be >= 1, got 0");
  EXPECT_EQ(e.where(), "configs/a.yaml:3");
  EXPECT_EQ(e.key(), "train.batch_size");
  const std::string what = e.what();
  for (const char* part : {"configs/a.yaml:3", "train.batch_size", "must be >= 1, got 0"})
    EXPECT_NE(what.find(part), std::string::npos) << what;
  // A value that no file or --set gave is named as such, not as if a file "default" had set it.
  const ConfigError unset("default", "data.resolution", "dataset 'custom' needs data.resolution");
  EXPECT_EQ(std::string(unset.what()), "data.resolution (not set): dataset 'custom' needs data.resolution");
  EXPECT_EQ(unset.where(), "default");
}

TEST(Errors, ChecksNameTheirCondition) {
  try {
    BIGGAN_CHECK(1 + 1 == 3, "arithmetic is " << "broken");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("arithmetic is broken"), std::string::npos) << e.what();
  }
}

// LibTorch's own error, thrown the way its kernels throw it: the user sees its first line, not
// the C++ call stack LibTorch appends.
TEST(Errors, ALibTorchErrorReachesTheUserWithoutItsCallStack) {
  try {
    TORCH_CHECK(1 + 1 == 3, "Sizes of tensors must match except in dimension 0");
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_EQ(user_message(e), "Sizes of tensors must match except in dimension 0");
  }
  EXPECT_EQ(user_message(Error("a.h5: truncated\nsecond line")), "a.h5: truncated\nsecond line");
}

// An allocation that fails in LibTorch's CPU allocator (an enforce failure, whose message carries
// a bare backtrace) reaches the user as one line and what to change, as does std::bad_alloc.
TEST(Errors, AFailedAllocationSaysWhatToChangeWithoutABacktrace) {
  try {
    const auto huge = torch::empty({std::int64_t{1} << 50}, torch::kFloat32);  // 4 PiB
    FAIL() << "allocated " << huge.numel() << " floats";
  } catch (const std::exception& e) {
    const std::string message = user_message(e);
    EXPECT_NE(message.find("can't allocate memory"), std::string::npos) << message;
    EXPECT_EQ(message.find("frame #"), std::string::npos) << message;
    EXPECT_NE(message.find("\nOut of memory. Training: a smaller train.batch_size"), std::string::npos) << message;
  }
  EXPECT_NE(user_message(std::bad_alloc()).find("Out of memory."), std::string::npos);
  EXPECT_EQ(user_message(Error("a.h5: truncated")).find("Out of memory."), std::string::npos);
}

// A crash inside a library while a file is being read names the file, then still ends the
// process by the signal; the note lasts only while the ReadingFile does, and a nested one keeps
// the outer file (the one the user gave).
TEST(CrashNote, ACrashWhileReadingNamesTheFileAndStillEndsBySignal) {
  ::testing::FLAGS_gtest_death_test_style = "threadsafe";
  EXPECT_EXIT(
      {
        const core::ReadingFile dataset("data/ILSVRC128.hdf5");
        const core::ReadingFile inner("other.h5");
        raise(SIGSEGV);
      },
      ::testing::KilledBySignal(SIGSEGV), "biggan: crashed while reading data/ILSVRC128.hdf5: the file is probably damaged");
  EXPECT_EXIT(
      {
        { const core::ReadingFile done("data/ILSVRC128.hdf5"); }
        std::cerr << "no note" << std::endl;
        raise(SIGBUS);
      },
      ::testing::KilledBySignal(SIGBUS), "^no note\n$");
}

TEST(FaultInjection, ArmsOnlyTheNamedFaultRankAndIteration) {
  unsetenv("BIGGAN_TEST_FAULT");
  EXPECT_FALSE(fault_armed("perturb_parameter", 1, 5));
  setenv("BIGGAN_TEST_FAULT", "perturb_parameter@1@5", 1);
  EXPECT_TRUE(fault_armed("perturb_parameter", 1, 5));
  EXPECT_FALSE(fault_armed("perturb_parameter", 0, 5));
  EXPECT_FALSE(fault_armed("perturb_parameter", 1, 6));
  EXPECT_FALSE(fault_armed("unreadable_checkpoint", 1, 5));
  setenv("BIGGAN_TEST_FAULT", "unreadable_checkpoint@0", 1);
  EXPECT_TRUE(fault_armed("unreadable_checkpoint", 0));  // no iteration: armed at any
  EXPECT_TRUE(fault_armed("unreadable_checkpoint", 0, 17));
  unsetenv("BIGGAN_TEST_FAULT");
}

}  // namespace
}  // namespace biggan
