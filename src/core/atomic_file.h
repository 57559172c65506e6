// Files that are either completely written or not there at all: write to a temporary name in
// the same folder, fsync, rename over the target, fsync the folder. A crash at any moment
// leaves the old file or the new one, never a torn one.
#pragma once

#include <string>

namespace biggan {

void write_file_atomically(const std::string& path, const std::string& contents);
std::string read_file(const std::string& path);  // throws Error naming the path
void fsync_directory(const std::string& dir);
void fsync_file(const std::string& path);
// For files written by other means (HDF5): fsync `written`, rename it to `path`, fsync the folder.
void commit_file(const std::string& written, const std::string& path);

}  // namespace biggan
