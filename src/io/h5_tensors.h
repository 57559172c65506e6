// Tensors in HDF5 files: one dataset per tensor, named by its key (dots allowed), shape and
// dtype kept (float32, float64, int64, uint8; 0-dim tensors as scalar dataspaces). This is the
// layout of the BigGAN-PyTorch parity fixtures and of our weight files.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace biggan::io {

// Debian's parallel HDF5 is not built thread-safe: every HDF5 call in the process (loader
// prefetch thread, background checkpoint writer, main thread) holds this lock.
// Why an existing HDF5 file would not open, for the error message: "no such file", "is a
// directory", "empty file", "not an HDF5 file", "truncated: N bytes, its superblock says M", or
// damaged/locked. Reads only the first bytes.
std::string hdf5_open_problem(const std::string& path);

std::recursive_mutex& hdf5_mutex();

class H5File {
 public:
  enum class Mode { read, create, read_write };
  // Whether write() gives each dataset HDF5's Fletcher-32 checksum (h5_tensors.cpp): yes, except
  // for files whose whole bytes another checksum covers (a checkpoint's manifest CRC-32s), where
  // it would only cost size (edge chunks, 2.4%) and load time (+0.9 s per 2.2 GB).
  enum class Checksums { per_dataset, covered_elsewhere };
  H5File(const std::string& path, Mode mode, Checksums checksums = Checksums::per_dataset);
  ~H5File();
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;

  bool exists(const std::string& path) const;
  torch::Tensor read(const std::string& path) const;
  // Rows [first, first + count) along the first dimension (one hyperslab read).
  torch::Tensor read_rows(const std::string& path, std::int64_t first, std::int64_t count) const;
  // Every dataset directly under `group`, by name.
  std::map<std::string, torch::Tensor> read_group(const std::string& group) const;
  std::vector<std::string> list(const std::string& group) const;
  void write(const std::string& path, const torch::Tensor& tensor);  // creates intermediate groups
  std::string read_string_attribute(const std::string& object, const std::string& name) const;
  // Flushes and closes; throws when the data could not be written (a full disk shows up here).
  // The destructor closes quietly, for error paths.
  void close();
  const std::string& path() const { return path_; }
  long long id() const { return id_; }

 private:
  std::string path_;
  long long id_ = -1;
  Checksums checksums_ = Checksums::per_dataset;
};

// Creates `path` as a new HDF5 file filled by `fill`: written as <path>.partial, closed with its
// errors checked, fsynced and renamed, so a failed or interrupted write never leaves a file
// that looks complete.
void write_h5_atomically(const std::string& path, const std::function<void(H5File&)>& fill);

}  // namespace biggan::io
