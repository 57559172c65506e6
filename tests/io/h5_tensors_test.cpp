// HDF5 tensors as H5File writes and reads them.
#include <gtest/gtest.h>

#include <hdf5.h>

#include <string>

#include "../damage.h"
#include "../temp_folder.h"
#include "core/error.h"
#include "io/h5_tensors.h"

namespace biggan::io {
namespace {

class H5Tensors : public testing::TempFolderTest {};

// Every tensor H5File writes (moments, classifiers, samples; checkpoints opt out) carries a Fletcher-32
// checksum: a flipped byte in its data is an error naming the dataset, not a different number.
// Rows of a large array sit in ~1 MiB chunks, so reading a few rows checks only their chunks.
TEST_F(H5Tensors, AFlippedByteInAWrittenTensorIsAChecksumError) {
  const std::string path = (dir / "moments.h5").string();
  const auto mu = torch::full({2048}, 0.5, torch::kFloat64);
  const auto rows = torch::arange(3 * 300000, torch::kFloat32).reshape({300000, 3});  // 3.6 MB
  {
    H5File f(path, H5File::Mode::create);
    f.write("mu", mu);
    f.write("rows", rows);
  }
  {  // the layout: "rows" in slabs of whole rows of at most 1 MiB
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    const hid_t ds = H5Dopen2(file, "rows", H5P_DEFAULT);
    const hid_t dcpl = H5Dget_create_plist(ds);
    hsize_t chunk[2] = {0, 0};
    EXPECT_EQ(H5Pget_chunk(dcpl, 2, chunk), 2);
    EXPECT_EQ(chunk[1], 3u);
    EXPECT_GT(chunk[0], 0u);
    EXPECT_LE(chunk[0] * 3 * sizeof(float), std::size_t{1} << 20);
    H5Pclose(dcpl);
    H5Dclose(ds);
    H5Fclose(file);
  }
  {
    H5File f(path, H5File::Mode::read);
    EXPECT_TRUE(torch::equal(f.read("mu"), mu));
    EXPECT_TRUE(torch::equal(f.read_rows("rows", 299990, 10), rows.slice(0, 299990)));
  }
  ASSERT_TRUE(testing::flip_stored_value(path, 0.5, 0, 0x01));  // 0.5 + 2^-53: plausible, and wrong
  H5File f(path, H5File::Mode::read);
  try {
    f.read("mu");
    ADD_FAILURE() << "a flipped byte read back";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":mu: fails its Fletcher-32 checksum"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(torch::equal(f.read_rows("rows", 0, 5), rows.slice(0, 0, 5)));  // other datasets read on
}

// A checkpoint's files opt out (their manifest's CRC-32s cover them): contiguous, no filter.
TEST_F(H5Tensors, FilesCoveredByAnotherChecksumStayContiguous) {
  const std::string path = (dir / "G.h5").string();
  {
    H5File f(path, H5File::Mode::create, H5File::Checksums::covered_elsewhere);
    f.write("w", torch::ones({600, 600}));
  }
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t ds = H5Dopen2(file, "w", H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(ds);
  EXPECT_EQ(H5Pget_layout(dcpl), H5D_CONTIGUOUS);
  EXPECT_EQ(H5Pget_nfilters(dcpl), 0);
  H5Pclose(dcpl);
  H5Dclose(ds);
  H5Fclose(file);
  EXPECT_TRUE(torch::equal(H5File(path, H5File::Mode::read).read("w"), torch::ones({600, 600})));
}

}  // namespace
}  // namespace biggan::io
