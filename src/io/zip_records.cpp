#include "io/zip_records.h"

#include <zip.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "core/error.h"

namespace biggan::io {

bool starts_as_zip(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

// Reads every record to its end (the read that checks its CRC-32); hands its bytes to `use`, or
// with none keeps nothing, so that checking a large .pth does not copy its tensors.
void read_records(const std::string& path, const std::function<void(const std::string&, const std::string&)>* use) {
  int code = 0;
  std::unique_ptr<zip_t, ArchiveCloser> archive(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code));
  if (!archive) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    if (code == ZIP_ER_NOZIP && starts_as_zip(path))
      throw Error(path + ": damaged or truncated: it starts as a zip archive but its end (the central directory) is "
                         "missing or unreadable");
    throw Error(path + ": not a readable zip archive (" + why + ")");
  }
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    const auto index = static_cast<zip_uint64_t>(i);
    zip_stat_t st;
    if (zip_stat_index(archive.get(), index, 0, &st) != 0)
      throw Error(path + ": record " + std::to_string(i) + " cannot be read (" + zip_strerror(archive.get()) + ")");
    const std::string name = st.name ? st.name : std::to_string(i);
    std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive.get(), index, 0));
    if (!file) throw Error(path + ": record " + name + " cannot be opened (" + zip_strerror(archive.get()) + ")");
    std::string bytes;
    if (use) bytes.reserve((st.valid & ZIP_STAT_SIZE) ? static_cast<std::size_t>(st.size) : 0);
    char chunk[1 << 16];
    for (;;) {
      // The read that returns 0 (the record's end) is the one that checks the CRC-32.
      const zip_int64_t n = zip_fread(file.get(), chunk, sizeof chunk);
      if (n < 0) {
        const bool crc = zip_error_code_zip(zip_file_get_error(file.get())) == ZIP_ER_CRC;
        throw Error(path + ": record " + name +
                    (crc ? " fails its CRC-32 check: the file is damaged"
                         : " cannot be read (" + std::string(zip_file_strerror(file.get())) + ")"));
      }
      if (n == 0) break;
      if (use) bytes.append(chunk, static_cast<std::size_t>(n));
    }
    if (use) (*use)(name, bytes);
  }
}

}  // namespace

void for_each_zip_record(const std::string& path, const std::function<void(const std::string&, const std::string&)>& use) {
  read_records(path, &use);
}

void check_zip_records(const std::string& path) { read_records(path, nullptr); }

}  // namespace biggan::io
