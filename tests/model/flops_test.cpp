// The FLOP model against PyTorch's own profiler: LibTorch's legacy profiler counts each
// convolution, matrix product and batched product from its input shapes as it runs. Counting a
// batch of 3 minus a batch of 1 leaves the per-image work (SN's power iteration and the fused
// kernels' weight transforms do not depend on the batch).
#include <gtest/gtest.h>

#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstring>

#include "config/config.h"
#include "config/module_options.h"
#include "model/flops.h"
#include "model/networks.h"

namespace biggan::model {
namespace {

namespace profiler = torch::autograd::profiler;

template <class Fn>
double profiled_flops(Fn&& run) {
  double flops = 0;
  {
    profiler::TLSLegacyProfilerGuard guard(
        torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU, /*report_input_shapes=*/true,
                                              /*profile_memory=*/false, /*with_stack=*/false, /*with_flops=*/true),
        [&flops](const profiler::thread_event_lists& lists) {
          for (const auto& list : lists)
            for (const auto& e : list) {
              const char* n = e.name();
              if (std::strcmp(n, "aten::conv2d") == 0 || std::strcmp(n, "aten::addmm") == 0 ||
                  std::strcmp(n, "aten::mm") == 0 || std::strcmp(n, "aten::bmm") == 0)
                flops += static_cast<double>(const_cast<profiler::LegacyEvent&>(e).flops());
            }
        });
    run();
  }
  return flops;
}

struct Counted {
  double G_profiled, D_profiled;
  ForwardMacs G, D;
};

Counted count(const std::vector<std::string>& sets) {
  const auto c = config::load({}, sets, 1);
  const auto G_options = config::generator_options(c);
  const auto D_options = config::discriminator_options(c);
  Generator G(G_options);
  Discriminator D(D_options);
  G->eval();
  D->eval();
  torch::NoGradGuard no_grad;
  auto G_at = [&](int n) {
    return profiled_flops([&] { G->forward(torch::randn({n, c.derived.dim_z}), G->shared(torch::zeros({n}, torch::kLong))); });
  };
  auto D_at = [&](int n) {
    const auto x = torch::randn({n, 3, c.derived.resolution, c.derived.resolution});
    return profiled_flops([&] { D->forward(x, torch::zeros({n}, torch::kLong)); });
  };
  return {(G_at(3) - G_at(1)) / 2, (D_at(3) - D_at(1)) / 2, generator_forward_macs(G_options),
          discriminator_forward_macs(D_options)};
}

// The profiler counts 2 FLOPs per multiply-add; both counts are exact integers here.
void expect_counts(const std::vector<std::string>& sets, const std::string& what) {
  for (const bool fused : {false, true}) {
    auto s = sets;
    s.push_back(std::string("model.fused_resampling=") + (fused ? "true" : "false"));
    const Counted k = count(s);
    const std::string label = what + (fused ? " fused" : " literal");
    EXPECT_DOUBLE_EQ(2 * (fused ? k.G.executed : k.G.literal), k.G_profiled) << label << " G";
    EXPECT_DOUBLE_EQ(2 * (fused ? k.D.executed : k.D.literal), k.D_profiled) << label << " D";
    if (fused) {
      EXPECT_LT(k.G.executed, 0.9 * k.G.literal) << label;
      EXPECT_LE(k.D.executed, k.D.literal) << label;
    } else {
      EXPECT_DOUBLE_EQ(k.G.executed, k.G.literal) << label;
    }
  }
}

std::vector<std::string> small(const std::string& resolution) {
  return {"data.dataset=custom", "data.path=x.h5", "data.resolution=" + resolution, "data.n_classes=5",
          "model.G_ch=8", "model.D_ch=8", "model.skip_init=true"};
}

TEST(Flops, BigGANSharedHierWithAttentionMatchesTheProfiler) {
  auto s = small("64");
  s.insert(s.end(), {"model.G_shared=true", "model.hier=true", "model.shared_dim=8", "model.dim_z=20",
                     "model.G_attn=32", "model.D_attn=16"});
  expect_counts(s, "BigGAN 64");
}

TEST(Flops, BigGANCifarUnsharedThinDMatchesTheProfiler) {
  auto s = small("32");
  s.insert(s.end(), {"model.G_attn=0", "model.D_attn=16", "model.D_wide=false"});
  expect_counts(s, "BigGAN 32");
}

TEST(Flops, BigGANdeepMatchesTheProfiler) {
  auto s = small("64");
  s.insert(s.end(), {"model.model=BigGANdeep", "model.G_shared=true", "model.hier=true", "model.shared_dim=8", "model.dim_z=16",
                     "model.G_depth=2", "model.D_depth=2", "model.G_attn=32", "model.D_attn=16"});
  expect_counts(s, "BigGAN-deep 64");
}

TEST(Flops, AnIterationCountsEveryMicroStep) {
  // G 10 and D 1 multiply-adds per image; 4 D steps of batch 2, one G step of batch 2:
  // D micro-step 2 * (10 + 6), G micro-step 2 * (30 + 2), all times 2 FLOPs.
  EXPECT_DOUBLE_EQ(iteration_flops(10, 1, {2, 2, 4, 1, 1}), 2 * (4 * 2 * 16 + 2 * 32));
  // Accumulations multiply their own micro-steps only.
  EXPECT_DOUBLE_EQ(iteration_flops(10, 1, {2, 3, 1, 2, 5}), 2 * (2 * 2 * 16 + 5 * 3 * 32));
}

}  // namespace
}  // namespace biggan::model
