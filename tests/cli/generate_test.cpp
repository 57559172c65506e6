// `biggan generate` from the outside: BigGAN-PyTorch's config (read from its state_dict.pth) and
// the fixture's initial weights give the reference images in eval and in train mode.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "config/module_options.h"
#include "../model/fixture_support.h"
#include "core/atomic_file.h"
#include "model/networks.h"
#include "model/state_dict.h"

namespace biggan::cli {
namespace {

namespace fs = std::filesystem;
using testing::fixture_config;
using testing::fixtures_dir;
using testing::relative_error;

TEST(Generate, ReproducesBigGanPytorchOutputsFromItsStateDictConfig) {
  BIGGAN_REQUIRE_FIXTURES();
  const fs::path dir = fs::temp_directory_path() / ("biggan_generate_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  io::H5File fixture(fixtures_dir() + "/s128_ch8/fixture.h5", io::H5File::Mode::read);
  {
    model::Generator G(config::generator_options(fixture_config("s128_ch8")));
    model::load_state_dict(*G, fixture.read_group("init/G"), true, "init/G");
    model::save_weights_file(*G, (dir / "G_init.h5").string());
    io::H5File latents((dir / "latents.h5").string(), io::H5File::Mode::create);
    latents.write("z", fixture.read("inputs/z"));
    latents.write("y", fixture.read("inputs/y"));
  }
  for (const std::string mode : {"eval", "train"}) {
    const std::string output = (dir / (mode + ".h5")).string();
    const std::string command = std::string(BIGGAN_BINARY) + " generate --biggan-pytorch-state " + fixtures_dir() +
                                "/bp_weights/zip/state_dict.pth --weights " + (dir / "G_init.h5").string() +
                                " --input " + (dir / "latents.h5").string() + " --output " + output + " --mode " + mode;
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto x = io::H5File(output, io::H5File::Mode::read).read("x");
    const auto expected = fixture.read(mode == "eval" ? "forward/G_eval_out" : "forward/G_train_out");
    // NHWC convolutions (model.channels_last: auto, on AVX-512) sum in another order than the
    // reference's NCHW ones; train mode's batch statistics over 4 images amplify it. Measured
    // 1.46e-5 (AVX-512, 1 thread), 1.65e-5 (AVX2 kernels, 1 thread), below 1e-5 at 2 threads.
    EXPECT_LT(relative_error(x, expected), 3e-5) << mode;
  }
  // Bad input names the file and the dataset.
  {
    io::H5File wrong((dir / "wrong.h5").string(), io::H5File::Mode::create);
    wrong.write("z", torch::zeros({2, 7}));
    wrong.write("y", torch::zeros({2}, torch::kInt64));
  }
  const std::string bad = std::string(BIGGAN_BINARY) + " generate --biggan-pytorch-state " + fixtures_dir() +
                          "/bp_weights/zip/state_dict.pth --weights " + (dir / "G_init.h5").string() + " --input " +
                          (dir / "wrong.h5").string() + " --output " + (dir / "never.h5").string() + " 2>" +
                          (dir / "err.txt").string();
  EXPECT_NE(std::system(bad.c_str()), 0);
  EXPECT_NE(read_file((dir / "err.txt").string()).find("wrong.h5:z"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "never.h5"));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace biggan::cli
