// Reading a zip archive's records with their CRC-32 checked. PyTorch's own reader (miniz built
// without its CRC checks) loads a .pth whose tensor bytes were flipped without a word, and
// libzip checks a record's CRC only when a read reaches its end.
#pragma once

#include <functional>
#include <string>

namespace biggan::io {

// Calls `use(name, bytes)` for every record of the zip archive at `path`, in the archive's order,
// each one read to its end and its CRC-32 checked. Throws Error naming the file and the record
// when the archive cannot be opened, a record cannot be read, or a CRC-32 does not match.
void for_each_zip_record(const std::string& path, const std::function<void(const std::string&, const std::string&)>& use);

// The same check without keeping the bytes.
void check_zip_records(const std::string& path);

// Whether the file at `path` begins with a zip archive's first local header ("PK\3\4").
bool starts_as_zip(const std::string& path);

}  // namespace biggan::io
