#include "data/sources.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>

#include "core/atomic_file.h"
#include "core/error.h"
#include "image/decode.h"
#include "image/resample.h"

namespace biggan::data {

namespace fs = std::filesystem;

namespace {

// Reads a file that may be gzip-compressed (zlib passes plain files through unchanged).
std::string read_maybe_gzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw Error(path + ": cannot open");
  std::string out;
  std::array<char, 1 << 16> buffer{};
  int n = 0;
  while ((n = gzread(f, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) out.append(buffer.data(), n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw Error(path + ": corrupt gzip data");
  return out;
}

std::uint32_t big_endian32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

std::string find_existing(const std::string& dir, const std::string& stem) {
  for (const std::string suffix : {"", ".gz"})
    if (fs::exists(dir + "/" + stem + suffix)) return dir + "/" + stem + suffix;
  throw Error(dir + ": " + stem + "[.gz] not found (Debian: apt-get install dataset-fashion-mnist, files in "
                    "/usr/share/datasets/fashion-mnist)");
}

std::vector<std::string> splits_of(const std::string& split, const std::string& kind) {
  if (split == "train") return {"train"};
  if (split == "test") return {"test"};
  if (split == "all") return {"train", "test"};
  throw Error("prepare-data --split: unknown split '" + split + "' for " + kind + " (train | test | all)");
}

class FashionMnist : public Source {
 public:
  FashionMnist(const std::string& dir, const std::string& split) {
    for (const auto& part : splits_of(split, "fmnist")) {
      const std::string prefix = part == "train" ? "train" : "t10k";
      const std::string images_path = find_existing(dir, prefix + "-images-idx3-ubyte");
      const std::string labels_path = find_existing(dir, prefix + "-labels-idx1-ubyte");
      const std::string images = read_maybe_gzip(images_path);
      const std::string labels = read_maybe_gzip(labels_path);
      if (images.size() < 16 || big_endian32(images, 0) != 0x803) throw Error(images_path + ": not an idx3 image file");
      if (labels.size() < 8 || big_endian32(labels, 0) != 0x801) throw Error(labels_path + ": not an idx1 label file");
      const std::uint32_t n = big_endian32(images, 4), rows = big_endian32(images, 8), cols = big_endian32(images, 12);
      if (rows != 28 || cols != 28) throw Error(images_path + ": expected 28x28 images");
      if (big_endian32(labels, 4) != n) throw Error(labels_path + ": label count differs from " + images_path);
      if (images.size() != 16 + static_cast<std::size_t>(n) * 784 || labels.size() != 8 + static_cast<std::size_t>(n))
        throw Error(images_path + ": truncated");
      for (std::uint32_t i = 0; i < n; ++i) {
        const auto label = static_cast<unsigned char>(labels[8 + i]);
        if (label >= 10) throw Error(labels_path + ": label " + std::to_string(label) + " outside [0, 10)");
        labels_.push_back(label);
        where_.push_back(images_path + "#" + std::to_string(i));
      }
      pixels_.append(images, 16, std::string::npos);
    }
  }
  std::int64_t size() const override { return static_cast<std::int64_t>(labels_.size()); }
  std::int64_t label(std::int64_t i) const override { return labels_[static_cast<std::size_t>(i)]; }
  image::Image load(std::int64_t i, int resolution) const override {
    const auto* p = reinterpret_cast<const std::uint8_t*>(pixels_.data()) + static_cast<std::size_t>(i) * 784;
    const auto img = image::from_gray(p, 28, 28);
    // 28 px into 32: pad with the black background rather than blur by scaling.
    return resolution == 32 ? image::pad_center(img, 32, 32, 0) : to_resolution(img, resolution);
  }
  std::string describe(std::int64_t i) const override { return where_[static_cast<std::size_t>(i)]; }
  const std::vector<std::string>& class_names() const override { return names_; }
  int native_resolution() const override { return 28; }

 private:
  std::string pixels_;
  std::vector<std::int64_t> labels_;
  std::vector<std::string> where_;
  std::vector<std::string> names_{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
};

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

class Cifar : public Source {
 public:
  Cifar(const std::string& dir, const std::string& split, bool hundred) : label_bytes_(hundred ? 2 : 1) {
    std::vector<std::string> files;
    for (const auto& part : splits_of(split, hundred ? "cifar100" : "cifar10")) {
      if (hundred) files.push_back(part == "train" ? "train.bin" : "test.bin");
      else if (part == "train")
        for (int b = 1; b <= 5; ++b) files.push_back("data_batch_" + std::to_string(b) + ".bin");
      else files.push_back("test_batch.bin");
    }
    const std::size_t record = label_bytes_ + 3072;
    for (const auto& name : files) {
      const std::string path = dir + "/" + name;
      if (!fs::exists(path))
        throw Error(path + ": not found (expected the CIFAR-" + std::string(hundred ? "100" : "10") +
                    " binary version, e.g. cifar-" + (hundred ? "100" : "10") + "-batches-bin)");
      const std::string data = read_file(path);
      if (data.empty() || data.size() % record) throw Error(path + ": size is not a multiple of " + std::to_string(record));
      for (std::size_t off = 0; off < data.size(); off += record) {
        const auto label = static_cast<unsigned char>(data[off + label_bytes_ - 1]);  // CIFAR-100: the fine label
        if (label >= (hundred ? 100 : 10)) throw Error(path + ": label " + std::to_string(label) + " out of range");
        labels_.push_back(label);
        where_.push_back(path + "#" + std::to_string(off / record));
        pixels_.append(data, off + label_bytes_, 3072);
      }
    }
    const std::string names_file = dir + (hundred ? "/fine_label_names.txt" : "/batches.meta.txt");
    names_ = fs::exists(names_file) ? read_lines(names_file) : std::vector<std::string>{};
    if (names_.size() != (hundred ? 100u : 10u)) {
      names_.clear();
      for (int c = 0; c < (hundred ? 100 : 10); ++c) names_.push_back("class_" + std::to_string(c));
    }
  }
  std::int64_t size() const override { return static_cast<std::int64_t>(labels_.size()); }
  std::int64_t label(std::int64_t i) const override { return labels_[static_cast<std::size_t>(i)]; }
  image::Image load(std::int64_t i, int resolution) const override {
    image::Image img;
    img.width = img.height = 32;
    img.rgb.resize(3072);
    const auto* p = reinterpret_cast<const std::uint8_t*>(pixels_.data()) + static_cast<std::size_t>(i) * 3072;
    for (int k = 0; k < 1024; ++k)
      for (int c = 0; c < 3; ++c) img.rgb[3 * k + c] = p[c * 1024 + k];  // planes -> interleaved
    return to_resolution(img, resolution);
  }
  std::string describe(std::int64_t i) const override { return where_[static_cast<std::size_t>(i)]; }
  const std::vector<std::string>& class_names() const override { return names_; }
  int native_resolution() const override { return 32; }

 private:
  std::size_t label_bytes_;
  std::string pixels_;
  std::vector<std::int64_t> labels_;
  std::vector<std::string> where_;
  std::vector<std::string> names_;
};

// BigGAN-PyTorch's IMG_EXTENSIONS, matched as it matches them: the lower-cased name ends with one.
bool is_image_file(const std::string& name) {
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const char* ext : {".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm"}) {
    const std::size_t n = std::char_traits<char>::length(ext);
    if (lower.size() >= n && lower.compare(lower.size() - n, n, ext) == 0) return true;
  }
  return false;
}

struct WalkedFolder {
  std::string path;
  std::vector<std::string> files;
};

// os.walk(top): every folder below `top` with the names of the non-folders in it. Like
// os.walk it does not descend into symbolic links to folders and passes over folders it
// cannot read.
void walk(const std::string& top, std::vector<WalkedFolder>& out) {
  std::error_code ec;
  fs::directory_iterator it(top, ec);
  if (ec) return;
  WalkedFolder here{top, {}};
  std::vector<std::string> subfolders;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec)) subfolders.push_back(name);
    else here.files.push_back(name);
  }
  out.push_back(std::move(here));
  for (const auto& name : subfolders) {
    const std::string path = top + "/" + name;
    if (!fs::is_symlink(path, ec)) walk(path, out);
  }
}

// BigGAN-PyTorch's make_dataset() for one class folder: `sorted(os.walk(d))` orders the
// folders by their path as a string (so "a/b" sorts after "a b" and "a-b"), then each
// folder's files by name. Sorting paths component by component would give another order.
std::vector<std::string> image_files_in_walk_order(const std::string& class_folder) {
  std::vector<WalkedFolder> folders;
  walk(class_folder, folders);
  std::sort(folders.begin(), folders.end(), [](const WalkedFolder& a, const WalkedFolder& b) { return a.path < b.path; });
  std::vector<std::string> files;
  for (auto& folder : folders) {
    std::sort(folder.files.begin(), folder.files.end());
    for (const auto& name : folder.files)
      if (is_image_file(name)) files.push_back(folder.path + "/" + name);
  }
  return files;
}

class ImageFolder : public Source {
 public:
  explicit ImageFolder(const std::string& root) {
    if (!fs::is_directory(root)) throw Error(root + ": not a folder (expected one sub-folder per class)");
    // find_classes(): the sorted names of root's folders (links to folders included).
    std::vector<std::string> classes;
    for (const auto& entry : fs::directory_iterator(root)) {
      std::error_code ec;
      if (entry.is_directory(ec)) classes.push_back(entry.path().filename().string());
    }
    std::sort(classes.begin(), classes.end());
    if (classes.empty()) throw Error(root + ": no class sub-folders");
    const std::string top = root.size() > 1 && root.back() == '/' ? root.substr(0, root.size() - 1) : root;
    for (std::size_t c = 0; c < classes.size(); ++c) {
      names_.push_back(classes[c]);
      const std::string folder = top + "/" + classes[c];
      std::vector<std::string> files = image_files_in_walk_order(folder);
      // BigGAN-PyTorch would keep an empty class's index; a class G cannot learn is refused here.
      if (files.empty())
        throw Error(folder + ": class folder holds no images (jpg/jpeg/png/ppm/bmp/pgm); remove it or add images");
      for (auto& f : files) {
        paths_.push_back(std::move(f));
        labels_.push_back(static_cast<std::int64_t>(c));
      }
    }
  }
  std::int64_t size() const override { return static_cast<std::int64_t>(paths_.size()); }
  std::int64_t label(std::int64_t i) const override { return labels_[static_cast<std::size_t>(i)]; }
  image::Image load(std::int64_t i, int resolution) const override {
    const std::string& path = paths_[static_cast<std::size_t>(i)];
    return to_resolution(image::decode(read_file(path), path), resolution);
  }
  void verify(std::int64_t i) const override {
    const std::string& path = paths_[static_cast<std::size_t>(i)];
    image::decode(read_file(path), path, image::DecodeDepth::verify);
  }
  std::string describe(std::int64_t i) const override { return paths_[static_cast<std::size_t>(i)]; }
  const std::vector<std::string>& class_names() const override { return names_; }
  void drop(const std::vector<std::int64_t>& dropped) override {
    std::vector<bool> gone(paths_.size(), false);
    for (const auto i : dropped) gone[static_cast<std::size_t>(i)] = true;
    std::vector<std::string> paths;
    std::vector<std::int64_t> labels;
    std::vector<std::int64_t> per_class(names_.size(), 0);
    for (std::size_t i = 0; i < paths_.size(); ++i)
      if (!gone[i]) {
        paths.push_back(paths_[i]);
        labels.push_back(labels_[i]);
        ++per_class[static_cast<std::size_t>(labels_[i])];
      }
    for (std::size_t c = 0; c < names_.size(); ++c)
      if (per_class[c] == 0) throw Error("class folder '" + names_[c] + "' has no readable image left");
    paths_ = std::move(paths);
    labels_ = std::move(labels);
  }

 private:
  std::vector<std::string> paths_;
  std::vector<std::int64_t> labels_;
  std::vector<std::string> names_;
};

}  // namespace

image::Image to_resolution(const image::Image& in, int resolution) {
  if (in.width == resolution && in.height == resolution) return in;
  return image::resize_bilinear(image::center_crop_square(in), resolution, resolution);
}

std::unique_ptr<Source> open_source(const std::string& kind, const std::string& input, const std::string& split) {
  if (kind == "fmnist") return std::make_unique<FashionMnist>(input, split);
  if (kind == "cifar10") return std::make_unique<Cifar>(input, split, false);
  if (kind == "cifar100") return std::make_unique<Cifar>(input, split, true);
  if (kind == "imagefolder") return std::make_unique<ImageFolder>(input);
  throw Error("prepare-data --source: unknown source '" + kind + "' (fmnist | cifar10 | cifar100 | imagefolder)");
}

}  // namespace biggan::data
