#include "io/npz.h"

#include <zip.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <regex>
#include <unistd.h>

#include "core/error.h"
#include "io/zip_records.h"

namespace biggan::io {

namespace {

std::string descr_of(torch::ScalarType t) {
  switch (t) {
    case torch::kUInt8: return "|u1";
    case torch::kInt64: return "<i8";
    case torch::kFloat32: return "<f4";
    case torch::kFloat64: return "<f8";
    default: throw Error(std::string("npy: unsupported dtype ") + c10::toString(t));
  }
}

torch::ScalarType type_of(const std::string& descr, const std::string& where) {
  if (descr == "|u1" || descr == "<u1") return torch::kUInt8;
  if (descr == "<i8") return torch::kInt64;
  if (descr == "<f4") return torch::kFloat32;
  if (descr == "<f8") return torch::kFloat64;
  throw Error(where + ": unsupported npy dtype '" + descr + "' (u1, i8, f4, f8 little-endian)");
}

std::string zip_error_text(zip_t* archive) { return archive ? zip_strerror(archive) : "unknown error"; }

}  // namespace

std::string npy_bytes(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
  std::string shape = "(";
  for (const auto d : t.sizes()) shape += std::to_string(d) + ",";
  if (t.dim() > 1) shape.pop_back();  // (3,) for one dimension, (2, 3) style otherwise
  shape += ")";
  std::string header = "{'descr': '" + descr_of(t.scalar_type()) + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Format 1.0: magic (6) + version (2) + length (2) + header, padded with spaces to 64 bytes, '\n' last.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

torch::Tensor parse_npy(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) throw Error(where + ": not an .npy array");
  const int major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw Error(where + ": truncated .npy header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw Error(where + ": unsupported .npy version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size()) throw Error(where + ": truncated .npy header");
  const std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']+)')"))) throw Error(where + ": .npy header without descr");
  const auto dtype = type_of(m[1], where);
  if (std::regex_search(header, m, std::regex(R"('fortran_order'\s*:\s*True)")))
    throw Error(where + ": Fortran-order arrays are not supported");
  if (!std::regex_search(header, m, std::regex(R"('shape'\s*:\s*\(([^)]*)\))"))) throw Error(where + ": .npy header without shape");
  std::vector<std::int64_t> shape;
  const std::string dims = m[1];
  const std::regex number(R"(\d+)");
  // The size is checked against the data before anything is allocated: a damaged header's shape
  // could ask for more memory than the machine has, or overflow.
  const std::size_t data_bytes = bytes.size() - offset - header_len;
  std::size_t nbytes = c10::elementSize(dtype);
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), number); it != std::sregex_iterator(); ++it) {
    const std::string dim = it->str();
    const std::size_t extent = dim.size() > 15 ? 0 : std::stoull(dim);  // 16 digits are past any file's size
    if (dim.size() > 15 || (extent != 0 && nbytes > data_bytes / extent))
      throw Error(where + ": .npy data has " + std::to_string(data_bytes) + " bytes, fewer than its header's shape (" +
                  dims + ") needs");
    nbytes *= extent;
    shape.push_back(static_cast<std::int64_t>(extent));
  }
  if (nbytes != data_bytes)
    throw Error(where + ": .npy data has " + std::to_string(data_bytes) + " bytes, the header says " + std::to_string(nbytes));
  torch::Tensor t = torch::empty(shape, torch::dtype(dtype));
  std::memcpy(t.data_ptr(), bytes.data() + offset + header_len, nbytes);
  return t;
}

void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  int code = 0;
  zip_t* archive = zip_open(temporary.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!archive) throw Error(path + ": cannot create (libzip error " + std::to_string(code) + ")");
  std::vector<std::string> buffers;  // libzip reads them at zip_close
  buffers.reserve(arrays.size());
  for (const auto& [name, tensor] : arrays) {
    buffers.push_back(npy_bytes(tensor));
    zip_source_t* source = zip_source_buffer(archive, buffers.back().data(), buffers.back().size(), 0);
    const zip_int64_t index = source ? zip_file_add(archive, (name + ".npy").c_str(), source, ZIP_FL_OVERWRITE) : -1;
    if (index < 0) {
      if (source) zip_source_free(source);
      const std::string why = zip_error_text(archive);
      zip_discard(archive);
      std::remove(temporary.c_str());
      throw Error(path + ": cannot add " + name + ".npy (" + why + ")");
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
  }
  if (zip_close(archive) != 0) {
    const std::string why = zip_error_text(archive);
    zip_discard(archive);
    std::remove(temporary.c_str());
    throw Error(path + ": cannot write (" + why + ")");
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    std::remove(temporary.c_str());
    throw Error(path + ": cannot rename the finished file into place: " + ec.message());
  }
}

std::map<std::string, torch::Tensor> read_npz(const std::string& path) {
  std::map<std::string, torch::Tensor> out;
  for_each_zip_record(path, [&](const std::string& record, const std::string& bytes) {
    std::string name = record;
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out[name] = parse_npy(bytes, path + ":" + record);
  });
  return out;
}

}  // namespace biggan::io
