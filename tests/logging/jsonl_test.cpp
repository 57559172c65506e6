#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "core/atomic_file.h"
#include "core/error.h"
#include "logging/jsonl.h"
#include "../temp_folder.h"

namespace biggan::logging {
namespace {

class SupersedeLines : public testing::TempFolderTest {
 protected:
  std::string log() const { return (dir / "metrics.jsonl").string(); }
  std::string archive() const { return (dir / "superseded" / "metrics.jsonl").string(); }
  void write(const std::string& path, const std::string& text) const { std::ofstream(path, std::ios::binary) << text; }
};

TEST_F(SupersedeLines, LinesAfterTheResumedIterationMoveToTheArchiveByteForByte) {
  write(log(), "{\"itr\":1,\"G_loss\":0.5}\n{\"itr\":2,\"G_loss\":0.25}\n{\"itr\":3,\"G_loss\":1e-07}\n"
               "{\"itr\":4}\n");
  const Superseded moved = supersede_lines_after(log(), 2, archive());
  EXPECT_EQ(moved.later, 2);
  EXPECT_EQ(moved.damaged, 0);
  EXPECT_EQ(moved.archive, archive());
  EXPECT_EQ(read_file(log()), "{\"itr\":1,\"G_loss\":0.5}\n{\"itr\":2,\"G_loss\":0.25}\n");
  EXPECT_EQ(read_file(archive()), "{\"itr\":3,\"G_loss\":1e-07}\n{\"itr\":4}\n");
}

TEST_F(SupersedeLines, NothingToMoveLeavesBothFilesAlone) {
  const std::string text = "{\"itr\":1}\n{\"event\":\"start\"}\n\n";
  write(log(), text);
  const auto before = std::filesystem::last_write_time(log());
  const Superseded moved = supersede_lines_after(log(), 1, archive());
  EXPECT_EQ(moved.later + moved.damaged, 0);
  EXPECT_TRUE(moved.archive.empty());
  EXPECT_EQ(read_file(log()), text);
  EXPECT_EQ(std::filesystem::last_write_time(log()), before) << "rewritten although nothing moved";
  EXPECT_FALSE(std::filesystem::exists(dir / "superseded")) << "an empty archive was made";
  EXPECT_EQ(supersede_lines_after((dir / "absent.jsonl").string(), 0, archive()).later, 0);
}

// A SIGKILL in the middle of a write leaves a torn last line; the next append would glue its own
// line to it and make a line no reader can parse. Lines without "itr" (events) stay.
TEST_F(SupersedeLines, ATornLastLineAndDamagedLinesMoveAndEventsStay) {
  write(log(), "{\"event\":\"start\",\"time\":1}\n[1,2]\n{\"itr\":\"7\"}\nnot json\n{\"event\":\"stop\"}\n"
               "{\"time\":12,\"ev");
  const Superseded moved = supersede_lines_after(log(), std::numeric_limits<std::int64_t>::max(), archive());
  EXPECT_EQ(moved.later, 0);
  EXPECT_EQ(moved.damaged, 4);
  EXPECT_EQ(read_file(log()), "{\"event\":\"start\",\"time\":1}\n{\"event\":\"stop\"}\n");
  EXPECT_EQ(read_file(archive()), "[1,2]\n{\"itr\":\"7\"}\nnot json\n{\"time\":12,\"ev\n");
}

// Two interrupted runs in a row: the archive keeps both runs' superseded lines, oldest first.
TEST_F(SupersedeLines, ASecondResumeAppendsToTheArchive) {
  write(log(), "{\"itr\":1}\n{\"itr\":2,\"run\":1}\n");
  supersede_lines_after(log(), 1, archive());
  std::ofstream(log(), std::ios::app) << "{\"itr\":2,\"run\":2}\n{\"itr\":3,\"run\":2}\n";
  const Superseded moved = supersede_lines_after(log(), 1, archive());
  EXPECT_EQ(moved.later, 2);
  EXPECT_EQ(read_file(log()), "{\"itr\":1}\n");
  EXPECT_EQ(read_file(archive()), "{\"itr\":2,\"run\":1}\n{\"itr\":2,\"run\":2}\n{\"itr\":3,\"run\":2}\n");
}

// The archive is written before the log: when it cannot be, the log keeps every line.
TEST_F(SupersedeLines, AnArchiveThatCannotBeWrittenLeavesTheLogWhole) {
  const std::string text = "{\"itr\":1}\n{\"itr\":2}\n";
  write(log(), text);
  write((dir / "superseded").string(), "a file where the archive's folder should be");
  try {
    supersede_lines_after(log(), 1, archive());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(archive()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cannot create its folder"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(log()), text);
}

}  // namespace
}  // namespace biggan::logging
