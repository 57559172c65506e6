#include "data/dataset_file.h"

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/crash_note.h"
#include "core/error.h"
#include "io/h5_tensors.h"

namespace biggan::data {

namespace {

// Closes an HDF5 handle when it goes out of scope.
struct Handle {
  hid_t id;
  herr_t (*close)(hid_t);
  ~Handle() {
    if (id >= 0) close(id);
  }
};

std::vector<hsize_t> dims_of(hid_t dataset) {
  Handle space{H5Dget_space(dataset), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space.id);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space.id, dims.data(), nullptr);
  return dims;
}

std::string shape_text(const std::vector<hsize_t>& dims) {
  std::string s = "(";
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + (dims.size() == 1 ? ",)" : ")");
}

void check_type(hid_t dataset, H5T_class_t cls, std::size_t size, bool is_signed, const std::string& where,
                const std::string& expected) {
  Handle type{H5Dget_type(dataset), H5Tclose};
  if (H5Tget_class(type.id) != cls || H5Tget_size(type.id) != size ||
      (cls == H5T_INTEGER && (H5Tget_sign(type.id) == H5T_SGN_2) != is_signed))
    throw Error(where + ": wrong dtype (expected " + expected + ")");
}

bool read_int_attribute(hid_t file, const char* name, std::int64_t& value) {
  if (H5Aexists(file, name) <= 0) return false;
  Handle attr{H5Aopen(file, name, H5P_DEFAULT), H5Aclose};
  return H5Aread(attr.id, H5T_NATIVE_INT64, &value) >= 0;
}

bool read_string_attribute(hid_t file, const char* name, std::string& value) {
  if (H5Aexists(file, name) <= 0) return false;
  Handle attr{H5Aopen(file, name, H5P_DEFAULT), H5Aclose};
  Handle type{H5Aget_type(attr.id), H5Tclose};
  if (H5Tget_class(type.id) != H5T_STRING) return false;
  if (H5Tis_variable_str(type.id) > 0) {
    char* text = nullptr;
    Handle mem{H5Tcopy(H5T_C_S1), H5Tclose};
    H5Tset_size(mem.id, H5T_VARIABLE);
    if (H5Aread(attr.id, mem.id, &text) < 0) return false;
    value = text ? text : "";
    H5free_memory(text);
    return true;
  }
  std::string buffer(H5Tget_size(type.id), '\0');
  if (H5Aread(attr.id, type.id, buffer.data()) < 0) return false;
  value = buffer.substr(0, buffer.find('\0'));
  return true;
}

// Names the filters a dataset needs and refuses the file, before any rank reads it, when one
// cannot be loaded: otherwise the first read of a chunk fails deep inside a collective.
std::string check_filters(hid_t dataset, const std::string& where) {
  Handle dcpl{H5Dget_create_plist(dataset), H5Pclose};
  const int n = H5Pget_nfilters(dcpl.id);
  std::string names;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, config = 0;
    std::size_t cd_count = 0;
    char name[64] = {0};
    const H5Z_filter_t id = H5Pget_filter2(dcpl.id, static_cast<unsigned>(i), &flags, &cd_count, nullptr, sizeof name,
                                           name, &config);
    const std::string label = id == H5Z_FILTER_DEFLATE ? "gzip" : id == 32000 ? "lzf" : (name[0] ? name : "unnamed");
    names += (names.empty() ? "" : "+") + label;
    if (id < 0 || H5Zfilter_avail(id) <= 0) {
      std::string fix = id == 32000 ? "install Debian's hdf5-plugin-lzf (scripts/install-deps.sh does)"
                                    : "make the filter's HDF5 plugin available through HDF5_PLUGIN_PATH";
      throw Error(where + " is compressed with filter " + std::to_string(id) + " (" + label +
                  ") that this HDF5 cannot load: " + fix + ", or rewrite the file uncompressed (h5repack -f NONE)");
    }
  }
  return names.empty() ? "none" : names;
}

// A chunk larger than its dataset can ever grow is damage that HDF5 1.10 does not catch: it
// reads such a chunk past its buffers (a segfault, found by fuzzing this file's header).
void check_chunks(hid_t dataset, const std::string& where) {
  Handle dcpl{H5Dget_create_plist(dataset), H5Pclose};
  if (H5Pget_layout(dcpl.id) != H5D_CHUNKED) return;
  Handle space{H5Dget_space(dataset), H5Sclose};
  const int rank = H5Sget_simple_extent_ndims(space.id);
  if (rank <= 0) return;  // the shape checks name it
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), max_dims(dims.size()), chunk(dims.size());
  H5Sget_simple_extent_dims(space.id, dims.data(), max_dims.data());
  if (H5Pget_chunk(dcpl.id, rank, chunk.data()) != rank)
    throw Error(where + ": its chunk layout does not match its shape " + shape_text(dims) + " (damaged file?)");
  // Only the first axis (images) may grow; a chunk may be longer than the images there are.
  for (std::size_t i = 0; i < dims.size(); ++i)
    if (chunk[i] == 0 || (i > 0 && chunk[i] > dims[i]) ||
        (i == 0 && max_dims[0] != H5S_UNLIMITED && chunk[0] > std::max(dims[0], max_dims[0])))
      throw Error(where + ": chunks of " + shape_text(chunk) + " do not fit its shape " + shape_text(dims) +
                  " (damaged file?)");
}

}  // namespace

DatasetHeader inspect_dataset(const std::string& path) {
  const std::lock_guard<std::recursive_mutex> lock(io::hdf5_mutex());
  const core::ReadingFile reading(path);
  if (!std::filesystem::exists(path))
    throw Error(path + ": dataset file not found (prepare one with `biggan prepare-data`, or set data.data_root)");
  Handle file{H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose};
  if (file.id < 0) throw Error(path + ": cannot open the dataset file: " + io::hdf5_open_problem(path));
  DatasetHeader h;
  h.path = path;
  for (const char* name : {"imgs", "labels"})
    if (H5Lexists(file.id, name, H5P_DEFAULT) <= 0)
      throw Error(path + ": dataset '" + name + "' is missing (expected imgs uint8 (N,3,R,R) and labels int64 (N,))");
  Handle imgs{H5Dopen2(file.id, "imgs", H5P_DEFAULT), H5Dclose};
  Handle labels{H5Dopen2(file.id, "labels", H5P_DEFAULT), H5Dclose};
  check_type(imgs.id, H5T_INTEGER, 1, false, path + ":imgs", "uint8");
  h.compression = check_filters(imgs.id, path + ":imgs");
  check_filters(labels.id, path + ":labels");
  check_chunks(imgs.id, path + ":imgs");
  check_chunks(labels.id, path + ":labels");
  const auto img_dims = dims_of(imgs.id);
  if (img_dims.size() != 4 || img_dims[1] != 3 || img_dims[2] != img_dims[3] || img_dims[2] == 0)
    throw Error(path + ":imgs has shape " + shape_text(img_dims) + ", expected (N, 3, R, R)");
  // BigGAN-PyTorch writes int64 labels; accept any integer type of up to 8 bytes.
  {
    Handle type{H5Dget_type(labels.id), H5Tclose};
    if (H5Tget_class(type.id) != H5T_INTEGER) throw Error(path + ":labels: wrong dtype (expected int64)");
  }
  const auto label_dims = dims_of(labels.id);
  if (label_dims.size() != 1) throw Error(path + ":labels has shape " + shape_text(label_dims) + ", expected (N,)");
  if (label_dims[0] != img_dims[0])
    throw Error(path + ": imgs holds " + std::to_string(img_dims[0]) + " images but labels holds " +
                std::to_string(label_dims[0]));
  h.size = static_cast<std::int64_t>(img_dims[0]);
  h.resolution = static_cast<int>(img_dims[2]);
  if (H5Lexists(file.id, "original_index", H5P_DEFAULT) > 0) {
    Handle index{H5Dopen2(file.id, "original_index", H5P_DEFAULT), H5Dclose};
    const auto dims = dims_of(index.id);
    if (dims.size() != 1 || dims[0] != img_dims[0])
      throw Error(path + ":original_index has shape " + shape_text(dims) + ", expected (" + std::to_string(h.size) + ",)");
    h.has_original_index = true;
  }
  std::int64_t value = 0;
  if (read_int_attribute(file.id, "format_version", value)) h.format_version = static_cast<int>(value);
  if (h.format_version > kDatasetFormatVersion)
    throw Error(path + ": dataset format version " + std::to_string(h.format_version) +
                " is newer than this build reads (" + std::to_string(kDatasetFormatVersion) + ")");
  if (read_int_attribute(file.id, "n_classes", value)) h.n_classes = static_cast<int>(value);
  if (read_int_attribute(file.id, "shuffled", value)) h.shuffled = value != 0;
  if (read_int_attribute(file.id, "shuffle_seed", value)) h.shuffle_seed = value;
  read_string_attribute(file.id, "source", h.source);
  read_string_attribute(file.id, "options", h.options_json);
  std::string names;
  if (read_string_attribute(file.id, "class_names", names) && !names.empty()) {
    try {
      h.class_names = nlohmann::json::parse(names).get<std::vector<std::string>>();
    } catch (const std::exception&) {
      throw Error(path + ": attribute class_names is not a JSON list of strings");
    }
  }
  return h;
}

std::vector<std::int64_t> read_labels(const std::string& path) {
  const auto t = io::H5File(path, io::H5File::Mode::read).read("labels").to(torch::kInt64).contiguous();
  return std::vector<std::int64_t>(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
}

int class_count(const DatasetHeader& header) {
  if (header.n_classes > 0) return header.n_classes;
  const auto labels = read_labels(header.path);
  const auto largest = std::max_element(labels.begin(), labels.end());
  if (largest == labels.end() || *largest < 0 || *largest >= std::numeric_limits<int>::max())
    throw Error(header.path + ": labels hold no class indices to count the classes by (and the file has no n_classes "
                              "attribute); set data.n_classes");
  return static_cast<int>(*largest + 1);
}

void check_dataset_fits(const DatasetHeader& h, const std::vector<std::int64_t>& labels, int resolution,
                        int n_classes, std::int64_t min_images) {
  if (h.resolution != resolution)
    throw Error(h.path + ": images are " + std::to_string(h.resolution) + " px but the config trains at " +
                std::to_string(resolution) + " px (data.dataset / data.resolution)");
  if (h.n_classes > 0 && h.n_classes != n_classes)
    throw Error(h.path + ": the file has " + std::to_string(h.n_classes) + " classes but the config has " +
                std::to_string(n_classes));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] < 0 || labels[i] >= n_classes)
      throw Error(h.path + ":labels[" + std::to_string(i) + "] = " + std::to_string(labels[i]) + " is outside [0, " +
                  std::to_string(n_classes) + ")");
  if (h.size < min_images)
    throw Error(h.path + ": holds " + std::to_string(h.size) + " images, fewer than one global batch (" +
                std::to_string(min_images) + ")");
}

}  // namespace biggan::data
