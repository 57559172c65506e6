#include "data/prepare.h"

#include <hdf5.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/memory.h"
#include "data/biggan_pytorch_bytes.h"
#include "data/dataset_file.h"
#include "data/index_order.h"
#include "data/sources.h"
#include "io/h5_tensors.h"
#include "logging/log.h"
#include "logging/progress.h"

namespace biggan::data {

namespace {

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw Error(what);
}

void write_int_attribute(hid_t file, const char* name, std::int64_t value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file, name, H5T_NATIVE_INT64, space, H5P_DEFAULT, H5P_DEFAULT);
  const herr_t rc = H5Awrite(attr, H5T_NATIVE_INT64, &value);
  H5Aclose(attr);
  H5Sclose(space);
  check(rc, std::string("cannot write attribute ") + name);
}

void write_string_attribute(hid_t file, const char* name, const std::string& value) {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, std::max<std::size_t>(value.size(), 1));
  H5Tset_strpad(type, H5T_STR_NULLPAD);
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attr = H5Acreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  std::string padded = value.empty() ? std::string(1, '\0') : value;
  const herr_t rc = H5Awrite(attr, type, padded.data());
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
  check(rc, std::string("cannot write attribute ") + name);
}

// The HDF5 LZF filter's registered id (h5py and hdf5-plugin-lzf use the same).
constexpr H5Z_filter_t kLzfFilter = 32000;

void add_compression(hid_t dcpl, Compression compression, const std::string& where) {
  if (compression == Compression::gzip) {
    check(H5Pset_deflate(dcpl, 4), where + ": cannot set gzip compression");  // h5py's default level
  } else if (compression == Compression::lzf) {
    check(H5Pset_filter(dcpl, kLzfFilter, H5Z_FLAG_OPTIONAL, 0, nullptr), where + ": cannot set LZF compression");
  }
}

hid_t create_dataset(hid_t file, const char* name, hid_t type, const std::vector<hsize_t>& dims, hsize_t chunk,
                     Compression compression) {
  const hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  std::vector<hsize_t> chunks(dims);
  chunks[0] = std::max<hsize_t>(1, std::min<hsize_t>(chunk, dims[0]));
  H5Pset_chunk(dcpl, static_cast<int>(chunks.size()), chunks.data());
  try {
    add_compression(dcpl, compression, name);
  } catch (...) {
    H5Pclose(dcpl);
    H5Sclose(space);
    throw;
  }
  // Allocating at creation lets ranks write hyperslabs collectively without a resize.
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
  const hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  H5Pclose(dcpl);
  H5Sclose(space);
  if (ds < 0) throw Error(std::string("cannot create dataset ") + name);
  return ds;
}

// One collective write of rows [first, first + count) of a dataset whose rows are `row_elems`
// elements; count 0 still takes part in the collective call.
void write_rows(hid_t ds, hid_t type, std::int64_t first, std::int64_t count, const std::vector<hsize_t>& dims,
                const void* data, hid_t dxpl, const std::string& where) {
  const hid_t file_space = H5Dget_space(ds);
  std::vector<hsize_t> start(dims.size(), 0), block(dims);
  start[0] = static_cast<hsize_t>(first);
  block[0] = static_cast<hsize_t>(count);
  hid_t mem_space;
  if (count > 0) {
    H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr);
    mem_space = H5Screate_simple(static_cast<int>(block.size()), block.data(), nullptr);
  } else {
    H5Sselect_none(file_space);
    const hsize_t one = 1;
    mem_space = H5Screate_simple(1, &one, nullptr);
    H5Sselect_none(mem_space);
  }
  const herr_t rc = H5Dwrite(ds, type, mem_space, file_space, dxpl, data);
  H5Sclose(mem_space);
  H5Sclose(file_space);
  check(rc, where + ": collective write of rows " + std::to_string(first) + "+" + std::to_string(count) + " failed");
}

// SIGINT/SIGTERM during a conversion: noted here, acted on at the next round by every rank.
volatile std::sig_atomic_t g_interrupt = 0;
extern "C" void on_interrupt(int signal) { g_interrupt = signal; }

// Handlers for the conversion's lifetime; the previous ones come back after.
class InterruptGuard {
 public:
  InterruptGuard() {
    g_interrupt = 0;
    struct sigaction action {};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

std::int64_t allreduce_max(std::int64_t v, MPI_Comm comm) {
  std::int64_t out = 0;
  MPI_Allreduce(&v, &out, 1, MPI_INT64_T, MPI_MAX, comm);
  return out;
}

// ImageFolder: every rank decodes its slice once; unreadable files are gathered on every
// rank so all drop the same items.
std::vector<std::int64_t> find_unreadable(const Source& source, int rank, int world, MPI_Comm comm,
                                          logging::Progress* progress) {
  const auto [first, last] = IndexOrder::shard(source.size(), rank, world);
  std::vector<std::int64_t> bad;
  for (std::int64_t i = first; i < last; ++i) {
    try {
      source.verify(i);
    } catch (const Error& e) {
      // Why, for the first few of each rank: the summary on rank 0 names the files only.
      if (bad.size() < 5) logging::warn(std::string("unreadable image: ") + e.what());
      bad.push_back(i);
    }
    if (progress && (i - first) % 64 == 0) progress->update((i - first) * world, "checking");
  }
  const int mine = static_cast<int>(bad.size());
  std::vector<int> counts(static_cast<std::size_t>(world)), offsets(static_cast<std::size_t>(world), 0);
  MPI_Allgather(&mine, 1, MPI_INT, counts.data(), 1, MPI_INT, comm);
  std::partial_sum(counts.begin(), counts.end() - 1, offsets.begin() + 1);
  std::vector<std::int64_t> all(static_cast<std::size_t>(offsets.back() + counts.back()));
  MPI_Allgatherv(bad.data(), mine, MPI_INT64_T, all.data(), counts.data(), offsets.data(), MPI_INT64_T, comm);
  return all;
}

// The source items a dataset keeps (--classes, --per-class), in source order, and its labels.
struct Selection {
  std::vector<std::int64_t> items;
  std::vector<std::string> class_names;
  std::vector<int> classes;  // empty: every class, labels unchanged
  std::int64_t label_of(std::int64_t source_label) const {
    if (classes.empty()) return source_label;
    return std::find(classes.begin(), classes.end(), source_label) - classes.begin();
  }
};

Selection select_items(const Source& source, const PrepareOptions& o) {
  const auto& names = source.class_names();
  const int available = static_cast<int>(names.size());
  Selection s;
  s.classes = o.classes;
  for (std::size_t i = 0; i < o.classes.size(); ++i) {
    const int c = o.classes[i];
    if (c < 0 || c >= available)
      throw Error("prepare-data --classes: class " + std::to_string(c) + " is out of range: " + o.input + " has " +
                  std::to_string(available) + " classes (0.." + std::to_string(available - 1) + ")");
    if (std::find(o.classes.begin(), o.classes.begin() + static_cast<std::ptrdiff_t>(i), c) !=
        o.classes.begin() + static_cast<std::ptrdiff_t>(i))
      throw Error("prepare-data --classes: class " + std::to_string(c) + " is listed twice");
    s.class_names.push_back(names[static_cast<std::size_t>(c)]);
  }
  if (o.classes.empty()) s.class_names = names;
  if (o.per_class < 0) throw Error("prepare-data --per-class must be >= 0, got " + std::to_string(o.per_class));
  std::vector<std::vector<std::int64_t>> by_class(s.class_names.size());
  for (std::int64_t i = 0; i < source.size(); ++i) {
    const std::int64_t label = source.label(i);
    if (!o.classes.empty() && std::find(o.classes.begin(), o.classes.end(), label) == o.classes.end()) continue;
    const std::int64_t kept = s.label_of(label);
    if (kept < 0 || kept >= static_cast<std::int64_t>(by_class.size()))
      throw Error(source.describe(i) + ": label " + std::to_string(label) + " outside the source's " +
                  std::to_string(available) + " classes");
    by_class[static_cast<std::size_t>(kept)].push_back(i);
  }
  if (o.per_class > 0) {
    // Seeded per class (seed, class), so that one class's draw does not depend on the others.
    for (std::size_t k = 0; k < by_class.size(); ++k) {
      auto& items = by_class[k];
      if (static_cast<std::int64_t>(items.size()) < o.per_class)
        throw Error("prepare-data --per-class " + std::to_string(o.per_class) + ": class " + s.class_names[k] + " has only " +
                    std::to_string(items.size()) + " items in " + o.input);
      std::mt19937_64 rng(static_cast<std::uint64_t>(o.seed) * 1000003ULL + k);
      for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng() % i]);
      items.resize(static_cast<std::size_t>(o.per_class));
      std::sort(items.begin(), items.end());
    }
  }
  for (const auto& items : by_class) s.items.insert(s.items.end(), items.begin(), items.end());
  std::sort(s.items.begin(), s.items.end());
  if (s.items.empty()) throw Error(o.input + ": no images of the selected classes");
  return s;
}

}  // namespace

Compression parse_compression(const std::string& text) {
  for (const Compression c : {Compression::none, Compression::gzip, Compression::lzf})
    if (text == compression_name(c)) return c;
  throw Error("prepare-data --compression: unknown value '" + text + "' (none | gzip | lzf)");
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::lzf: return "lzf";
  }
  return "none";
}

PrepareReport prepare_dataset(const PrepareOptions& o, MPI_Comm comm) {
  const auto t0 = std::chrono::steady_clock::now();
  int rank = 0, world = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &world);
  if (o.output.empty()) throw Error("prepare-data: --output is required");
  // Checked before hours of conversion, not at the final rename.
  if (std::filesystem::is_directory(o.output))
    throw Error("prepare-data --output " + o.output + ": is a directory; give the dataset file's name, e.g. " +
                (std::filesystem::path(o.output) / "FMNIST32.hdf5").string());
  if (o.chunk_size < 1) throw Error("prepare-data: --chunk-size must be >= 1");
  if (o.compression == Compression::lzf && H5Zfilter_avail(kLzfFilter) <= 0)
    throw Error("prepare-data --compression lzf: the HDF5 LZF filter plugin is not installed (Debian package "
                "hdf5-plugin-lzf; scripts/install-deps.sh installs it)");
  auto source = open_source(o.source, o.input, o.split);
  int resolution = o.resolution;
  if (resolution == 0) {
    if (source->native_resolution() == 0) throw Error("prepare-data: --resolution is required for " + o.source);
    resolution = std::max(32, source->native_resolution());
  }
  if (resolution < 4 || resolution > 2048) throw Error("prepare-data: --resolution " + std::to_string(resolution) + " is out of range");
  const auto style = o.progress;
  PrepareReport report;

  if (o.source == "imagefolder") {
    std::unique_ptr<logging::Progress> check_progress;
    if (rank == 0) check_progress = std::make_unique<logging::Progress>("check", source->size(), style);
    const auto bad = find_unreadable(*source, rank, world, comm, check_progress.get());
    if (check_progress) check_progress->finish(source->size());
    if (!bad.empty()) {
      std::string first_few;
      for (std::size_t i = 0; i < bad.size() && i < 5; ++i) first_few += "\n  " + source->describe(bad[i]);
      if (rank == 0)
        logging::warn("skipping " + std::to_string(bad.size()) + " unreadable image(s); the first:" + first_few);
      source->drop(bad);
      report.skipped = static_cast<std::int64_t>(bad.size());
    }
  }
  if (source->size() == 0) throw Error(o.input + ": no images");
  const Selection selection = select_items(*source, o);
  const std::int64_t n = static_cast<std::int64_t>(selection.items.size());
  // A chunk holds at most the whole dataset (create_dataset clamps it to n): the write buffer is
  // one chunk, so --chunk-size 100000000 must not become a 300 GB buffer. HDF5 documents chunks
  // below 4 GiB; the one here accepted a 5.86 GiB chunk at creation and went on writing.
  const std::int64_t chunk_images = std::min<std::int64_t>(o.chunk_size, std::max<std::int64_t>(n, 1));
  const std::size_t image_bytes = 3 * static_cast<std::size_t>(resolution) * static_cast<std::size_t>(resolution);
  const double chunk_bytes = static_cast<double>(chunk_images) * static_cast<double>(image_bytes);
  constexpr double kMaxChunkBytes = 4294967296.0;
  if (chunk_bytes >= kMaxChunkBytes)
    throw Error("prepare-data: --chunk-size " + std::to_string(o.chunk_size) + " makes HDF5 chunks of " +
                core::format_bytes(chunk_bytes) + " (" + std::to_string(chunk_images) +
                " images of 3 x " + std::to_string(resolution) + " x " + std::to_string(resolution) +
                " bytes); HDF5 allows less than 4 GiB a chunk: use at most " +
                std::to_string(static_cast<std::int64_t>((kMaxChunkBytes - 1) / static_cast<double>(image_bytes))));

  // Output position j holds source item order[j].
  std::vector<std::int64_t> order = selection.items;
  if (o.shuffle) {
    std::mt19937_64 rng(static_cast<std::uint64_t>(o.seed));
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  }
  const bool subset = !o.classes.empty() || o.per_class > 0;

  const std::string partial = o.output + ".partial";
  const auto out_dir = std::filesystem::path(o.output).parent_path();
  if (!out_dir.empty() && rank == 0) std::filesystem::create_directories(out_dir);
  MPI_Barrier(comm);

  const std::lock_guard<std::recursive_mutex> lock(io::hdf5_mutex());
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
  const hid_t file = H5Fcreate(partial.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (file < 0) throw Error(partial + ": cannot create (is the folder writable? on a filesystem without locking set "
                                      "HDF5_USE_FILE_LOCKING=FALSE)");
  const auto R = static_cast<hsize_t>(resolution);
  const std::vector<hsize_t> img_dims{static_cast<hsize_t>(n), 3, R, R};
  const std::vector<hsize_t> vec_dims{static_cast<hsize_t>(n)};
  const auto chunk = static_cast<hsize_t>(chunk_images);
  const hid_t imgs = create_dataset(file, "imgs", H5T_NATIVE_UINT8, img_dims, chunk, o.compression);
  const hid_t labels = create_dataset(file, "labels", H5T_NATIVE_INT64, vec_dims, chunk, o.compression);
  const hid_t index = o.shuffle || subset ? create_dataset(file, "original_index", H5T_NATIVE_INT64, vec_dims, chunk,
                                                           o.compression)
                                          : -1;
  const hid_t original_labels = o.classes.empty() ? -1
                                                  : create_dataset(file, "original_labels", H5T_NATIVE_INT64, vec_dims,
                                                                   chunk, o.compression);
  write_int_attribute(file, "format_version", kDatasetFormatVersion);
  write_int_attribute(file, "resolution", resolution);
  write_int_attribute(file, "n_classes", static_cast<std::int64_t>(selection.class_names.size()));
  write_string_attribute(file, "class_names", nlohmann::json(selection.class_names).dump());
  write_string_attribute(file, "source", o.source + ":" + std::filesystem::absolute(o.input).string());
  write_string_attribute(file, "options", nlohmann::json{{"split", o.split},
                                                         {"resolution", resolution},
                                                         {"chunk_size", o.chunk_size},
                                                         {"shuffle", o.shuffle},
                                                         {"seed", o.seed},
                                                         {"skipped_unreadable", report.skipped},
                                                         {"classes", o.classes},
                                                         {"per_class", o.per_class},
                                                         {"compression", compression_name(o.compression)},
                                                         {"resize", "center crop of the long edge (torchvision), "
                                                                    "PIL bilinear (antialiased)"},
                                                         {"pixel_values", o.biggan_pytorch_bytes
                                                                              ? "biggan-pytorch (make_hdf5 truncation)"
                                                                              : "pil"}}
                                              .dump());
  write_int_attribute(file, "shuffled", o.shuffle ? 1 : 0);
  write_int_attribute(file, "shuffle_seed", o.shuffle ? o.seed : -1);

  const hid_t dxpl = H5Pcreate(H5P_DATASET_XFER);
  H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE);
  const auto [first, last] = IndexOrder::shard(n, rank, world);
  const std::int64_t rounds = allreduce_max((last - first + chunk_images - 1) / chunk_images, comm);
  std::unique_ptr<logging::Progress> progress;
  if (rank == 0) progress = std::make_unique<logging::Progress>("prepare", n, style);
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(chunk_images) * image_bytes);
  const InterruptGuard interrupts;
  int interrupted = 0;
  try {
    for (std::int64_t round = 0; round < rounds; ++round) {
      // Every rank stops at the same round (the signal may have reached one rank only).
      interrupted = static_cast<int>(allreduce_max(g_interrupt, comm));
      if (interrupted) break;
      const std::int64_t begin = std::min(last, first + round * chunk_images);
      const std::int64_t end = std::min(last, begin + chunk_images);
      for (std::int64_t j = begin; j < end; ++j) {
        image::Image img = source->load(order[static_cast<std::size_t>(j)], resolution);
        if (o.biggan_pytorch_bytes) apply_biggan_pytorch_bytes(img);
        image::to_chw(img, buffer.data() + static_cast<std::size_t>(j - begin) * image_bytes);
      }
      write_rows(imgs, H5T_NATIVE_UINT8, begin, end - begin, {0, 3, R, R}, buffer.data(), dxpl, partial + ":imgs");
      if (progress) progress->update(std::min(n, end * world), o.source);
    }
    std::vector<std::int64_t> my_labels, my_index, my_original_labels;
    for (std::int64_t j = first; j < last; ++j) {
      const std::int64_t item = order[static_cast<std::size_t>(j)];
      my_labels.push_back(selection.label_of(source->label(item)));
      my_original_labels.push_back(source->label(item));
      my_index.push_back(item);
    }
    write_rows(labels, H5T_NATIVE_INT64, first, last - first, {0}, my_labels.data(), dxpl, partial + ":labels");
    if (original_labels >= 0)
      write_rows(original_labels, H5T_NATIVE_INT64, first, last - first, {0}, my_original_labels.data(), dxpl,
                 partial + ":original_labels");
    if (index >= 0)
      write_rows(index, H5T_NATIVE_INT64, first, last - first, {0}, my_index.data(), dxpl, partial + ":original_index");
  } catch (...) {
    // Another rank may be inside a collective call: ending the job is the only safe way out,
    // which main() does. The .partial file never looks like a finished dataset.
    H5Pclose(dxpl);
    throw;
  }
  H5Pclose(dxpl);
  if (index >= 0) H5Dclose(index);
  if (original_labels >= 0) H5Dclose(original_labels);
  H5Dclose(labels);
  H5Dclose(imgs);
  check(H5Fclose(file), partial + ": closing failed");
  MPI_Barrier(comm);
  if (interrupted) {
    if (rank == 0) std::filesystem::remove(partial);
    throw Error("prepare-data: interrupted by signal " + std::to_string(interrupted) + "; removed " + partial +
                ", nothing was written to " + o.output);
  }
  if (rank == 0) {
    commit_file(partial, o.output);
  }
  MPI_Barrier(comm);
  if (progress) progress->finish(n);
  report.images = n;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

}  // namespace biggan::data
