// Bad dataset files are clear errors that name the file and what is wrong with it; the
// ImageFolder source decodes, crops, resizes and skips like the preparation promises.
#include <gtest/gtest.h>

#include <hdf5.h>
#include <stb_image_write.h>

#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/dataset_file.h"
#include "data/sources.h"
#include "io/h5_tensors.h"
#include "../temp_folder.h"

namespace biggan::data {
namespace {

namespace fs = std::filesystem;

class DatasetFile : public testing::TempFolderTest {
 protected:
  std::string make(const std::string& name, const torch::Tensor& imgs, const torch::Tensor& labels) {
    const std::string path = (dir / name).string();
    io::H5File f(path, io::H5File::Mode::create);
    if (imgs.defined()) f.write("imgs", imgs);
    if (labels.defined()) f.write("labels", labels);
    return path;
  }
  void expect_error(const std::string& path, const std::string& fragment, int resolution = 8, int classes = 3,
                    std::int64_t min_images = 2) {
    try {
      const auto h = inspect_dataset(path);
      check_dataset_fits(h, read_labels(path), resolution, classes, min_images);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(fs::path(path).filename().string()), std::string::npos) << what;
      EXPECT_NE(what.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << what;
    }
  }
};

TEST_F(DatasetFile, EveryBadInputNamesTheProblem) {
  const auto imgs = torch::zeros({4, 3, 8, 8}, torch::kUInt8);
  const auto labels = torch::tensor({0, 1, 2, 1}, torch::kInt64);
  const auto good = make("good.hdf5", imgs, labels);
  EXPECT_NO_THROW(check_dataset_fits(inspect_dataset(good), read_labels(good), 8, 3, 4));
  expect_error((dir / "absent.hdf5").string(), "not found");
  std::ofstream(dir / "text.hdf5") << "hello";
  expect_error((dir / "text.hdf5").string(), "not an HDF5 file");
  expect_error(make("noimgs.hdf5", {}, labels), "'imgs' is missing");
  expect_error(make("nolabels.hdf5", imgs, {}), "'labels' is missing");
  expect_error(make("float.hdf5", torch::zeros({4, 3, 8, 8}), labels), "wrong dtype");
  expect_error(make("rank.hdf5", torch::zeros({4, 8, 8}, torch::kUInt8), labels), "expected (N, 3, R, R)");
  expect_error(make("labelrank.hdf5", imgs, labels.view({2, 2})), "expected (N,)");
  expect_error(make("mismatch.hdf5", imgs, torch::tensor({0, 1}, torch::kInt64)), "holds 4 images but labels holds 2");
  expect_error(make("range.hdf5", imgs, torch::tensor({0, 1, 3, 1}, torch::kInt64)), "labels[2] = 3");
  expect_error(good, "config trains at 16 px", 16);
  expect_error(good, "fewer than one global batch", 8, 3, 5);
}

// The class count a custom dataset trains with when the config leaves it unset: our attribute,
// else (a BigGAN-PyTorch file) the largest label + 1.
TEST_F(DatasetFile, ClassCountIsTheAttributeElseTheLargestLabelPlusOne) {
  const auto imgs = torch::zeros({4, 3, 8, 8}, torch::kUInt8);
  const auto plain = make("plain.hdf5", imgs, torch::tensor({0, 4, 1, 4}, torch::kInt64));
  EXPECT_EQ(class_count(inspect_dataset(plain)), 5);
  {
    io::H5File f(plain, io::H5File::Mode::read_write);
    const int n_classes = 7;  // a class with no image in this file still counts
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(static_cast<hid_t>(f.id()), "n_classes", H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(H5Awrite(attr, H5T_NATIVE_INT, &n_classes), 0);
    H5Aclose(attr);
    H5Sclose(space);
  }
  EXPECT_EQ(class_count(inspect_dataset(plain)), 7);
  const auto negative = make("negative.hdf5", imgs, torch::full({4}, -1, torch::kInt64));
  try {
    class_count(inspect_dataset(negative));
    ADD_FAILURE() << "no error for labels that are all negative";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("negative.hdf5: labels hold no class indices"), std::string::npos) << e.what();
  }
}

// HDF5 1.10 reads a chunk larger than its dataset past its buffers (a segfault a fuzz of this
// reader found). Such a layout is damage: no writer can create it, so the chunk's size is
// patched in the file's bytes here.
TEST_F(DatasetFile, ChunksLargerThanTheImagesAreDamage) {
  const std::string path = (dir / "chunks.hdf5").string();
  {
    io::H5File f(path, io::H5File::Mode::create);
    f.write("labels", torch::tensor({0, 1, 2, 1}, torch::kInt64));
    const hsize_t dims[4] = {4, 3, 8, 8}, chunk[4] = {2, 3, 8, 8};
    const hid_t space = H5Screate_simple(4, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 4, chunk);
    const hid_t imgs = H5Dcreate2(static_cast<hid_t>(f.id()), "imgs", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    const std::vector<std::uint8_t> pixels(4 * 3 * 8 * 8, 7);
    ASSERT_GE(H5Dwrite(imgs, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels.data()), 0);
    H5Dclose(imgs);
    H5Pclose(dcpl);
    H5Sclose(space);
  }
  const auto h = inspect_dataset(path);
  EXPECT_EQ(h.size, 4);
  // The layout message stores the chunk as 32-bit sizes, then the element size: 2, 3, 8, 8, 1.
  std::string bytes = read_file(path);
  const std::uint32_t layout[5] = {2, 3, 8, 8, 1};
  const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(layout), sizeof layout));
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(std::string(reinterpret_cast<const char*>(layout), sizeof layout), at + 1), std::string::npos);
  bytes[at + 4] = static_cast<char>(200);  // chunks of 2 x 200 x 8 x 8 in a 4 x 3 x 8 x 8 dataset
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  expect_error(path, "imgs: chunks of (2, 200, 8, 8) do not fit its shape (4, 3, 8, 8) (damaged file?)");
}

// Labels as numpy and h5py write them from a user's own script: any integer type (int8 to
// uint64) reads as the same class indices; a float type is refused.
TEST_F(DatasetFile, LabelsOfEveryIntegerTypeReadAsTheSameClasses) {
  const auto imgs = torch::zeros({4, 3, 8, 8}, torch::kUInt8);
  const std::vector<std::int64_t> classes = {0, 2, 1, 2};
  const std::pair<const char*, hid_t> types[] = {
      {"int8", H5T_STD_I8LE},   {"uint8", H5T_STD_U8LE},   {"int16", H5T_STD_I16LE}, {"uint16", H5T_STD_U16LE},
      {"int32", H5T_STD_I32BE}, {"uint32", H5T_STD_U32LE}, {"int64", H5T_STD_I64LE}, {"uint64", H5T_STD_U64LE},
      {"float32", H5T_IEEE_F32LE}};
  for (const auto& [name, file_type] : types) {
    const std::string path = make(std::string(name) + ".hdf5", imgs, {});
    {
      const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      const hsize_t n = classes.size();
      const hid_t space = H5Screate_simple(1, &n, nullptr);
      const hid_t set = H5Dcreate2(file, "labels", file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      ASSERT_GE(H5Dwrite(set, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, classes.data()), 0) << name;
      H5Dclose(set);
      H5Sclose(space);
      H5Fclose(file);
    }
    if (std::string(name) == "float32") {
      expect_error(path, "labels: wrong dtype");
      continue;
    }
    const auto h = inspect_dataset(path);
    const auto labels = read_labels(path);
    EXPECT_EQ(labels, classes) << name;
    EXPECT_NO_THROW(check_dataset_fits(h, labels, 8, 3, 4)) << name;
  }
}

void write_png(const fs::path& path, int w, int h, unsigned char value) {
  std::vector<unsigned char> px(static_cast<std::size_t>(w * h * 3), value);
  ASSERT_TRUE(stbi_write_png(path.string().c_str(), w, h, 3, px.data(), w * 3));
}

TEST_F(DatasetFile, ImageFolderSortsClassesCropsResizesAndSkipsBrokenFiles) {
  fs::create_directories(dir / "tree" / "b_cats");
  fs::create_directories(dir / "tree" / "a_dogs" / "nested");
  write_png(dir / "tree" / "a_dogs" / "one.PNG", 40, 20, 200);
  write_png(dir / "tree" / "a_dogs" / "nested" / "two.png", 16, 16, 10);
  write_png(dir / "tree" / "b_cats" / "three.png", 20, 60, 77);
  {
    std::ofstream pgm(dir / "tree" / "b_cats" / "gray.pgm", std::ios::binary);  // grayscale -> RGB
    pgm << "P5\n4 4\n255\n" << std::string(16, static_cast<char>(99));
  }
  std::ofstream(dir / "tree" / "b_cats" / "broken.jpg") << "not a jpeg";
  std::ofstream(dir / "tree" / "b_cats" / "notes.txt") << "ignored";
  auto source = open_source("imagefolder", (dir / "tree").string(), "train");
  ASSERT_EQ(source->size(), 5);
  EXPECT_EQ(source->class_names(), (std::vector<std::string>{"a_dogs", "b_cats"}));
  EXPECT_EQ(source->label(0), 0);
  EXPECT_EQ(source->label(4), 1);
  auto find = [&](const std::string& name) {
    for (std::int64_t i = 0; i < source->size(); ++i)
      if (source->describe(i).find(name) != std::string::npos) return i;
    return std::int64_t{-1};
  };
  // BigGAN-PyTorch's walk: a folder's own files come before those of its sub-folders.
  EXPECT_EQ(find("one.PNG"), 0);
  EXPECT_EQ(find("nested/two.png"), 1);
  const auto img = source->load(find("one.PNG"), 8);
  EXPECT_EQ(img.width, 8);
  EXPECT_EQ(img.height, 8);
  for (const auto v : img.rgb) EXPECT_EQ(v, 200);  // a flat image stays flat: rounding, not truncation
  const auto gray = source->load(find("gray.pgm"), 8);
  EXPECT_EQ(gray.rgb[0], 99);
  EXPECT_EQ(gray.rgb[2], 99);
  const std::int64_t broken = find("broken.jpg");
  ASSERT_GE(broken, 0);
  EXPECT_THROW(source->load(broken, 8), Error);
  source->drop({broken});
  EXPECT_EQ(source->size(), 4);
  EXPECT_THROW(source->drop({0, 1}), Error);  // a_dogs would be empty

  fs::create_directories(dir / "tree" / "c_empty");
  try {
    open_source("imagefolder", (dir / "tree").string(), "train");
    ADD_FAILURE() << "an empty class folder must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("c_empty"), std::string::npos) << e.what();
  }
}

TEST_F(DatasetFile, UnknownSourcesAndSplitsAreErrors) {
  EXPECT_THROW(open_source("mnist", ".", "train"), Error);
  EXPECT_THROW(open_source("fmnist", "/usr/share/datasets/fashion-mnist", "validation"), Error);
  EXPECT_THROW(open_source("cifar10", dir.string(), "train"), Error);
}

}  // namespace
}  // namespace biggan::data
