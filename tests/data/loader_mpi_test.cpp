// Data tests that need several ranks (run under mpirun -np 2; they also pass on 1): parallel
// preparation, the sharded loader in memory and streaming, exact resume, resume on another
// number of ranks, and files in BigGAN-PyTorch's own h5py layout.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <zlib.h>

#include "data/dataset_file.h"
#include "data/loader.h"
#include "data/prepare.h"
#include "distributed/context.h"
#include "io/h5_tensors.h"
#include "../mpi_test_main.h"

namespace biggan::data {
namespace {

namespace fs = std::filesystem;

MPI_Comm comm() { return distributed::process_context().comm(); }
int rank() { return distributed::process_context().rank(); }
int world() { return distributed::process_context().world_size(); }

std::vector<std::int64_t> allgather(const std::vector<std::int64_t>& mine) {
  int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(world())), offsets(static_cast<std::size_t>(world()), 0);
  MPI_Allgather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, comm());
  for (int r = 1; r < world(); ++r) offsets[r] = offsets[r - 1] + counts[r - 1];
  std::vector<std::int64_t> all(static_cast<std::size_t>(offsets.back() + counts.back()));
  MPI_Allgatherv(mine.data(), count, MPI_INT64_T, all.data(), counts.data(), offsets.data(), MPI_INT64_T, comm());
  return all;
}

// A folder every rank agrees on.
fs::path shared_dir() {
  static fs::path dir;
  if (dir.empty()) {
    long long id = ::getpid();
    MPI_Bcast(&id, 1, MPI_LONG_LONG, 0, comm());
    dir = fs::temp_directory_path() / ("biggan_data_mpi_" + std::to_string(id));
    if (rank() == 0) {
      fs::remove_all(dir);
      fs::create_directories(dir);
    }
    MPI_Barrier(comm());
  }
  return dir;
}

const std::string kFmnist = "/usr/share/datasets/fashion-mnist";

std::string prepared_fmnist() {
  const std::string path = (shared_dir() / "fmnist_test.hdf5").string();
  if (!fs::exists(path)) {
    PrepareOptions o;
    o.source = "fmnist";
    o.input = kFmnist;
    o.output = path;
    o.split = "test";
    o.seed = 3;
    o.progress = logging::ProgressStyle::none;
    prepare_dataset(o, comm());
  }
  MPI_Barrier(comm());
  return path;
}

#define REQUIRE_FMNIST()                                                                     \
  if (!fs::exists(kFmnist)) GTEST_SKIP() << kFmnist << " missing (apt-get install dataset-fashion-mnist)"

TEST(DataMpi, ParallelPreparationEqualsSerialAndKeepsLabels) {
  REQUIRE_FMNIST();
  const std::string parallel = prepared_fmnist();
  if (rank() == 0) {
    PrepareOptions o;
    o.source = "fmnist";
    o.input = kFmnist;
    o.output = (shared_dir() / "serial.hdf5").string();
    o.split = "test";
    o.seed = 3;
    o.progress = logging::ProgressStyle::none;
    prepare_dataset(o, MPI_COMM_SELF);
    io::H5File a(parallel, io::H5File::Mode::read), b(o.output, io::H5File::Mode::read);
    EXPECT_TRUE(torch::equal(a.read("imgs"), b.read("imgs")));
    EXPECT_TRUE(torch::equal(a.read("labels"), b.read("labels")));
    const auto imgs = a.read("imgs");
    EXPECT_EQ(imgs.sizes(), (std::vector<std::int64_t>{10000, 3, 32, 32}));
    // Labels follow the idx labels through the recorded shuffle.
    gzFile f = gzopen((kFmnist + "/t10k-labels-idx1-ubyte.gz").c_str(), "rb");
    std::vector<unsigned char> raw(10008);
    ASSERT_EQ(gzread(f, raw.data(), 10008), 10008);
    gzclose(f);
    const auto labels = a.read("labels");
    const auto original = a.read("original_index");
    for (std::int64_t j = 0; j < 10000; ++j)
      ASSERT_EQ(labels[j].item<std::int64_t>(), raw[8 + original[j].item<std::int64_t>()]) << j;
    EXPECT_FALSE(torch::equal(original, torch::arange(10000)));  // shuffled
  }
  MPI_Barrier(comm());
}

LoaderOptions options(const std::string& path, bool in_mem, std::int64_t batch) {
  LoaderOptions o;
  o.path = path;
  o.batch_per_rank = batch;
  o.load_in_mem = in_mem;
  o.seed = 11;
  o.resolution = 32;
  o.n_classes = 10;
  return o;
}

TEST(DataMpi, AnEpochIsTheDatasetOnceInMemoryAndStreamingAlike) {
  REQUIRE_FMNIST();
  const std::string path = prepared_fmnist();
  // Same sampler locality in both modes, so the sequences are the same.
  auto with_blocks = [&](bool in_mem) {
    auto o = options(path, in_mem, 128);
    o.block_rows = 100;
    o.window_blocks = 4;
    return o;
  };
  Loader in_mem(with_blocks(true), comm());
  Loader streaming(with_blocks(false), comm());
  std::vector<std::int64_t> mine;
  for (std::int64_t step = 0; step < in_mem.batches_per_epoch(); ++step) {
    const Batch a = in_mem.next();
    const Batch b = streaming.next();
    ASSERT_TRUE(torch::equal(a.x, b.x)) << step;
    ASSERT_TRUE(torch::equal(a.y, b.y)) << step;
    EXPECT_GE(a.x.min().item<float>(), -1.f);
    EXPECT_LE(a.x.max().item<float>(), 1.f);
    mine.insert(mine.end(), a.indices.begin(), a.indices.end());
  }
  const auto all = allgather(mine);
  const std::set<std::int64_t> unique(all.begin(), all.end());
  EXPECT_EQ(unique.size(), all.size());
  EXPECT_EQ(static_cast<std::int64_t>(all.size()), (10000 / world()) / 128 * 128 * world());
  EXPECT_EQ(in_mem.state().epoch, 0);
}

TEST(DataMpi, ResumeContinuesBitForBit) {
  REQUIRE_FMNIST();
  const std::string path = prepared_fmnist();
  Loader first(options(path, false, 100), comm());
  for (int i = 0; i < 7; ++i) first.next();
  Loader resumed(options(path, false, 100), comm());
  resumed.restore(first.state());
  for (int i = 0; i < 60; ++i) {  // crosses into epoch 1
    const Batch a = first.next(), b = resumed.next();
    ASSERT_TRUE(torch::equal(a.x, b.x)) << i;
    ASSERT_EQ(a.indices, b.indices);
  }
}

TEST(DataMpi, ResumeOnAnotherNumberOfRanksSkipsAndRepeatsNothing) {
  REQUIRE_FMNIST();
  const std::string path = prepared_fmnist();
  // The run before the restart had one rank and the same global batch.
  const std::int64_t global_batch = 40 * world();
  IndexOrder before(10000, 11, 0, 1, global_batch);
  std::vector<std::int64_t> seen;
  for (int i = 0; i < 17; ++i) {
    const auto b = before.next();
    seen.insert(seen.end(), b.begin(), b.end());
  }
  Loader after(options(path, true, 40), comm());
  after.restore(before.state());
  std::vector<std::int64_t> mine;
  while (true) {
    const Batch b = after.next();
    if (b.after.epoch != 0) break;
    mine.insert(mine.end(), b.indices.begin(), b.indices.end());
  }
  const auto rest = allgather(mine);
  seen.insert(seen.end(), rest.begin(), rest.end());
  const std::set<std::int64_t> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "repeated samples";
  EXPECT_EQ(static_cast<std::int64_t>(seen.size()), 10000 / global_batch * global_batch) << "skipped samples";
}

// Writes tests/data/make_h5py_dataset.py's file on rank 0; false when python3/h5py are missing.
bool make_h5py_file(const std::string& path, const std::string& compression) {
  int made = 0;
  if (rank() == 0) {
    const std::string cmd = "/usr/bin/python3 " + std::string(BIGGAN_SOURCE_DIR) + "/tests/data/make_h5py_dataset.py " +
                            path + " " + compression + " >/dev/null 2>&1";
    made = std::system(cmd.c_str()) == 0 ? 1 : 0;
  }
  MPI_Bcast(&made, 1, MPI_INT, 0, comm());
  return made != 0;
}

// A file made by h5py the way BigGAN-PyTorch's make_hdf5.py makes it (no attributes,
// class-major, chunks of 500) loads unchanged.
TEST(DataMpi, ReadsBigGanPytorchH5pyFiles) {
  const std::string path = (shared_dir() / "ILSVRC16.hdf5").string();
  if (!make_h5py_file(path, "none")) GTEST_SKIP() << "/usr/bin/python3 with h5py is needed to write the h5py-layout file";
  LoaderOptions o = options(path, false, 8);
  o.resolution = 16;
  o.n_classes = 4;
  Loader loader(o, comm());
  EXPECT_EQ(loader.header().format_version, 0);
  for (int step = 0; step < 3; ++step) {
    const Batch b = loader.next();
    for (std::size_t k = 0; k < b.indices.size(); ++k) {
      const auto i = b.indices[k];
      // The script writes pixel value (i * 7) % 256 everywhere in image i and label i // 16.
      const float expected = static_cast<float>((i * 7) % 256) / 127.5f - 1.f;
      ASSERT_FLOAT_EQ(b.x[static_cast<std::int64_t>(k)][1][5][9].item<float>(), expected);
      ASSERT_EQ(b.y[static_cast<std::int64_t>(k)].item<std::int64_t>(), i / 16);
    }
  }
}

// make_hdf5.py --compression writes LZF: such a file (and a gzip one) gives the same batches as
// the uncompressed file, streaming and in memory, on every rank.
TEST(DataMpi, LzfAndGzipFilesGiveTheBatchesOfAnUncompressedOne) {
  const std::string plain = (shared_dir() / "plain16.hdf5").string();
  if (!make_h5py_file(plain, "none")) GTEST_SKIP() << "/usr/bin/python3 with h5py is needed to write the h5py-layout file";
  for (const std::string compression : {"lzf", "gzip"}) {
    const std::string path = (shared_dir() / (compression + "16.hdf5")).string();
    ASSERT_TRUE(make_h5py_file(path, compression)) << compression;
    for (const bool in_mem : {false, true}) {
      LoaderOptions o = options(plain, in_mem, 8);
      o.resolution = 16;
      o.n_classes = 4;
      Loader reference(o, comm());
      o.path = path;
      Loader compressed(o, comm());
      EXPECT_EQ(compressed.header().compression, compression);
      for (int step = 0; step < 10; ++step) {  // more than an epoch of 64 / (8 x ranks)
        const Batch a = reference.next(), b = compressed.next();
        ASSERT_EQ(a.indices, b.indices);
        ASSERT_TRUE(torch::equal(a.x, b.x)) << compression << " step " << step << (in_mem ? " in memory" : " streaming");
        ASSERT_TRUE(torch::equal(a.y, b.y));
      }
    }
  }
}

// prepare-data --compression writes what it says, with the same contents as without.
TEST(DataMpi, PreparationCompressesWithoutChangingTheContents) {
  REQUIRE_FMNIST();
  const std::string plain = prepared_fmnist();
  for (const Compression c : {Compression::lzf, Compression::gzip}) {
    PrepareOptions o;
    o.source = "fmnist";
    o.input = kFmnist;
    o.output = (shared_dir() / (std::string("fmnist_") + compression_name(c) + ".hdf5")).string();
    o.split = "test";
    o.seed = 3;
    o.compression = c;
    o.progress = logging::ProgressStyle::none;
    prepare_dataset(o, comm());
    if (rank() == 0) {
      EXPECT_EQ(inspect_dataset(o.output).compression, compression_name(c));
      EXPECT_LT(fs::file_size(o.output), fs::file_size(plain)) << compression_name(c);
      io::H5File a(plain, io::H5File::Mode::read), b(o.output, io::H5File::Mode::read);
      EXPECT_TRUE(torch::equal(a.read("imgs"), b.read("imgs")));
      EXPECT_TRUE(torch::equal(a.read("labels"), b.read("labels")));
    }
    MPI_Barrier(comm());
  }
}

}  // namespace
}  // namespace biggan::data

int main(int argc, char** argv) {
  return biggan::testing::run_mpi_tests(argc, argv, [] { std::filesystem::remove_all(biggan::data::shared_dir()); });
}
