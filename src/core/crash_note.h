// What a thread is reading, for a crash inside a library. HDF5 1.10 trusts a file's metadata:
// some damage to it makes HDF5 itself segfault (found by fuzzing dataset files), before any of
// our checks can run. A ReadingFile in scope makes such a crash print which file it was reading
// and what to do, instead of a bare "Segmentation fault"; the process still ends by that signal
// (Open MPI's handler, where one is installed, runs after ours and ends the job).
#pragma once

#include <string>

namespace biggan::core {

class ReadingFile {
 public:
  explicit ReadingFile(const std::string& path);
  ~ReadingFile();
  ReadingFile(const ReadingFile&) = delete;
  ReadingFile& operator=(const ReadingFile&) = delete;

 private:
  const char* previous_;
};

}  // namespace biggan::core
