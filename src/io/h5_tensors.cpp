#include "io/h5_tensors.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <filesystem>

#include "core/atomic_file.h"
#include "core/crash_note.h"
#include "core/error.h"

namespace biggan::io {

namespace {

hid_t native_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat: return H5T_NATIVE_FLOAT;
    case torch::kDouble: return H5T_NATIVE_DOUBLE;
    case torch::kLong: return H5T_NATIVE_INT64;
    case torch::kInt: return H5T_NATIVE_INT32;
    case torch::kShort: return H5T_NATIVE_INT16;
    case torch::kChar: return H5T_NATIVE_INT8;
    case torch::kByte: return H5T_NATIVE_UINT8;
    default: throw Error(std::string("HDF5: unsupported tensor dtype ") + c10::toString(t));
  }
}

torch::ScalarType scalar_type_of(hid_t type, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  if (cls == H5T_FLOAT) return size == 8 ? torch::kDouble : torch::kFloat;
  if (cls == H5T_INTEGER) {
    // Every integer type h5py writes from numpy. torch has no uint16/32/64: those read into the
    // next wider signed type (HDF5 converts on read), uint64 into int64, where values past
    // 2^63 - 1 would not fit; no label or index comes near.
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 8) return torch::kLong;
    if (size == 4) return is_signed ? torch::kInt : torch::kLong;
    if (size == 2) return is_signed ? torch::kShort : torch::kInt;
    if (size == 1) return is_signed ? torch::kChar : torch::kByte;
  }
  const std::string kind = cls == H5T_INTEGER ? "integer" : cls == H5T_FLOAT ? "float" : cls == H5T_STRING ? "string"
                           : cls == H5T_COMPOUND ? "compound" : "non-numeric";
  throw Error(where + ": unsupported HDF5 element type (" + kind + ", " + std::to_string(size) +
              " bytes); expected an integer or float of 1 to 8 bytes");
}

// Quiet HDF5's own error stack printing; we report errors ourselves with the file and path.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const SilenceHdf5 silence_hdf5_once;

}  // namespace

std::string hdf5_open_problem(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) return "no such file";
  if (fs::is_directory(path, ec)) return "is a directory, not an HDF5 file";
  const auto size = fs::file_size(path, ec);
  if (ec) return "cannot read its size (" + ec.message() + ")";
  if (size == 0) return "empty file (0 bytes)";
  std::ifstream in(path, std::ios::binary);
  unsigned char head[64] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<std::size_t>(in.gcount());
  static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  if (got < 8 || std::memcmp(head, signature, 8) != 0)
    return "not an HDF5 file (no HDF5 signature at its start; user blocks are not supported)";
  // The superblock's end-of-file address (HDF5 file format spec, superblock versions 0-3).
  std::size_t offsets = 0, eof_at = 0;
  if (got > 13 && (head[8] == 0 || head[8] == 1)) {
    offsets = head[13];
    eof_at = (head[8] == 0 ? 24 : 28) + 2 * offsets;
  } else if (got > 9 && (head[8] == 2 || head[8] == 3)) {
    offsets = head[9];
    eof_at = 12 + 2 * offsets;
  }
  if (offsets == 8 && eof_at + 8 <= got) {
    std::uint64_t eof = 0;
    for (int b = 7; b >= 0; --b) eof = (eof << 8) | head[eof_at + static_cast<std::size_t>(b)];
    if (eof > size)
      return "truncated: " + std::to_string(size) + " bytes, its superblock says " + std::to_string(eof);
  }
  return "damaged, or locked by another process (on a file system without locking set HDF5_USE_FILE_LOCKING=FALSE)";
}

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

H5File::H5File(const std::string& path, Mode mode, Checksums checksums) : path_(path), checksums_(checksums) {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path);
  if (mode == Mode::create)
    id_ = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  else
    id_ = H5Fopen(path.c_str(), mode == Mode::read ? H5F_ACC_RDONLY : H5F_ACC_RDWR, H5P_DEFAULT);
  if (id_ < 0 && mode == Mode::create)
    throw Error(path + ": cannot create HDF5 file (is the folder there and writable? on a file system without "
                       "locking set HDF5_USE_FILE_LOCKING=FALSE)");
  if (id_ < 0) throw Error(path + ": cannot open HDF5 file: " + hdf5_open_problem(path));
}

void H5File::close() {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (id_ < 0) return;
  const herr_t flushed = H5Fflush(id_, H5F_SCOPE_LOCAL);
  const herr_t closed = H5Fclose(id_);
  id_ = -1;
  if (flushed < 0 || closed < 0) throw Error(path_ + ": could not be written completely (disk full or I/O error)");
}

H5File::~H5File() {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  if (id_ >= 0) H5Fclose(id_);
}

bool H5File::exists(const std::string& path) const {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path_);
  // Check each prefix: H5Lexists fails on a missing intermediate group.
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    prefix = path.substr(0, slash);
    if (!prefix.empty() && H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

namespace {

// Every tensor we write carries HDF5's Fletcher-32 checksum, which each read verifies: a flipped
// byte in an Inception moments file or a classifier would otherwise change an FID or an
// accuracy without a word (a checkpoint opts out: its manifest's CRC-32s cover it). The filter
// needs a chunked layout: slabs of whole rows of about 1 MiB, HDF5's default chunk cache, so that
// reading a few rows of a large array (exported samples) reads and checks only their chunks.
hid_t checksummed_layout(const std::vector<hsize_t>& dims, std::size_t nbytes) {
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (dims.empty() || nbytes == 0) return dcpl;  // scalars and empty tensors stay contiguous
  std::vector<hsize_t> chunk(dims);
  const std::size_t target = std::size_t{1} << 20;
  if (nbytes > target) chunk[0] = std::max<hsize_t>(1, dims[0] * target / nbytes);
  if (nbytes / dims[0] * chunk[0] >= (std::size_t{1} << 32)) return dcpl;  // one row above HDF5's chunk limit
  H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  H5Pset_fletcher32(dcpl);
  return dcpl;
}

bool has_fletcher32(hid_t ds) {
  const hid_t dcpl = H5Dget_create_plist(ds);
  unsigned flags = 0;
  size_t n = 0;
  const bool found = H5Pget_filter_by_id2(dcpl, H5Z_FILTER_FLETCHER32, &flags, &n, nullptr, 0, nullptr, nullptr) >= 0;
  H5Pclose(dcpl);
  return found;
}

}  // namespace

torch::Tensor H5File::read(const std::string& path) const { return read_rows(path, 0, -1); }

torch::Tensor H5File::read_rows(const std::string& path, std::int64_t first, std::int64_t count) const {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path_);
  const std::string where = path_ + ":" + path;
  if (!exists(path)) throw Error(where + ": no such dataset");
  const hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
  if (ds < 0) throw Error(where + ": cannot open dataset");
  const hid_t space = H5Dget_space(ds);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  const hid_t ftype = H5Dget_type(ds);
  const auto close_all = [&] {
    H5Tclose(ftype);
    H5Sclose(space);
    H5Dclose(ds);
  };
  torch::ScalarType st;
  try {
    st = scalar_type_of(ftype, where);
  } catch (...) {
    close_all();
    throw;
  }
  const bool whole = count < 0;
  if (!whole) {
    const auto rows = rank > 0 ? static_cast<std::int64_t>(dims[0]) : 0;
    if (rank == 0 || first < 0 || first + count > rows) {
      close_all();
      throw Error(where + ": rows [" + std::to_string(first) + ", " + std::to_string(first + count) +
                  ") are outside its " + std::to_string(rows) + " rows");
    }
  }
  std::vector<int64_t> shape(dims.begin(), dims.end());
  if (!whole) shape[0] = count;
  torch::Tensor t = torch::empty(shape, torch::TensorOptions().dtype(st));
  herr_t rc = 0;
  if (t.numel() > 0) {
    if (whole) {
      rc = H5Dread(ds, native_type(st), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr());
    } else {
      // One hyperslab of whole rows.
      std::vector<hsize_t> start(dims.size(), 0), extent(dims);
      start[0] = static_cast<hsize_t>(first);
      extent[0] = static_cast<hsize_t>(count);
      H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr);
      const hid_t memory = H5Screate_simple(static_cast<int>(extent.size()), extent.data(), nullptr);
      rc = H5Dread(ds, native_type(st), memory, space, H5P_DEFAULT, t.data_ptr());
      H5Sclose(memory);
    }
  }
  const bool checksummed = rc < 0 && has_fletcher32(ds);
  close_all();
  if (checksummed) throw Error(where + ": fails its Fletcher-32 checksum: the file is damaged");
  if (rc < 0) throw Error(where + ": read failed");
  return t;
}

std::vector<std::string> H5File::list(const std::string& group) const {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path_);
  if (!exists(group)) throw Error(path_ + ":" + group + ": no such group");
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
    static_cast<std::vector<std::string>*>(data)->push_back(name);
    return 0;
  };
  if (H5Literate_by_name(id_, group.c_str(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names, H5P_DEFAULT) < 0)
    throw Error(path_ + ":" + group + ": cannot list group");
  return names;
}

std::map<std::string, torch::Tensor> H5File::read_group(const std::string& group) const {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path_);
  std::map<std::string, torch::Tensor> out;
  for (const auto& name : list(group)) {
    const std::string full = group + "/" + name;
    H5O_info_t info;
    if (H5Oget_info_by_name(id_, full.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET) continue;
    out[name] = read(full);
  }
  return out;
}

void H5File::write(const std::string& path, const torch::Tensor& tensor_in) {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const std::string where = path_ + ":" + path;
  const torch::Tensor t = tensor_in.detach().to(torch::kCPU).contiguous();
  std::vector<hsize_t> dims(t.sizes().begin(), t.sizes().end());
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hid_t space = dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t type = native_type(t.scalar_type());
  const hid_t dcpl = checksums_ == Checksums::per_dataset ? checksummed_layout(dims, t.nbytes())
                                                           : H5Pcreate(H5P_DATASET_CREATE);
  const hid_t ds = H5Dcreate2(id_, path.c_str(), type, space, lcpl, dcpl, H5P_DEFAULT);
  herr_t rc = ds < 0 ? -1 : 0;
  if (ds >= 0 && t.numel() > 0) rc = H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data_ptr());
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Pclose(lcpl);
  if (rc < 0) throw Error(where + ": cannot write dataset (disk full, or the name exists?)");
}

std::string H5File::read_string_attribute(const std::string& object, const std::string& name) const {
  const std::lock_guard<std::recursive_mutex> lock(hdf5_mutex());
  const core::ReadingFile reading(path_);
  const std::string where = path_ + ":" + object + "@" + name;
  if (H5Aexists_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT) <= 0) throw Error(where + ": no such attribute");
  const hid_t attr = H5Aopen_by_name(id_, object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  std::string value;
  if (H5Tis_variable_str(type) > 0) {
    char* buf = nullptr;
    const hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));  // h5py writes UTF-8
    if (H5Aread(attr, mem, &buf) < 0) throw Error(where + ": cannot read the string");
    if (buf) value = buf;
    if (buf) H5free_memory(buf);
    H5Tclose(mem);
  } else {
    const size_t size = H5Tget_size(type);
    std::string buf(size, '\0');
    if (H5Aread(attr, type, buf.data()) >= 0) value = buf.substr(0, buf.find('\0'));
  }
  H5Tclose(type);
  H5Aclose(attr);
  return value;
}

void write_h5_atomically(const std::string& path, const std::function<void(H5File&)>& fill) {
  const std::string partial = path + ".partial";
  {
    H5File file(partial, H5File::Mode::create);
    fill(file);
    file.close();
  }
  commit_file(partial, path);
}

}  // namespace biggan::io
