// numpy .npz files (a zip of .npy arrays, stored uncompressed like np.savez), so that
// BigGAN-PyTorch and numpy read what we write (inception moments, exported samples) and we read
// theirs. Supported dtypes: uint8, int64, float32, float64, little-endian, C order.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace biggan::io {

// Written under a temporary name and renamed: a reader never sees a partial file.
void write_npz(const std::string& path, const std::map<std::string, torch::Tensor>& arrays);
std::map<std::string, torch::Tensor> read_npz(const std::string& path);

// One array as .npy bytes, and back (errors name `where`).
std::string npy_bytes(const torch::Tensor& tensor);
torch::Tensor parse_npy(const std::string& bytes, const std::string& where);

}  // namespace biggan::io
