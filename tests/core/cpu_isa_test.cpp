// oneDNN's instruction set as the executable reports it, with and without ONEDNN_MAX_CPU_ISA.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/cpu_isa.h"
#include "model/options.h"
#include "../version_line.h"

namespace biggan::core {
namespace {

// The oneDNN line of `biggan --version`, run with `environment` in front.
std::string onednn_line(const std::string& environment) {
  return testing::version_line("-u ONEDNN_MAX_CPU_ISA -u DNNL_MAX_CPU_ISA " + environment, "  oneDNN   ");
}

TEST(CpuIsa, AutomaticLayoutIsNhwcOnCudaAndAvx512CpusAndNchwOnAvx2) {
  using model::MemoryLayout;
  EXPECT_FALSE(model::nhwc_activations(MemoryLayout::automatic, false, false));
  EXPECT_TRUE(model::nhwc_activations(MemoryLayout::automatic, false, true));
  EXPECT_TRUE(model::nhwc_activations(MemoryLayout::automatic, true, false));
  for (const bool cuda : {false, true})
    for (const bool avx512 : {false, true}) {
      EXPECT_TRUE(model::nhwc_activations(MemoryLayout::nhwc, cuda, avx512));
      EXPECT_FALSE(model::nhwc_activations(MemoryLayout::nchw, cuda, avx512));
    }
}

TEST(CpuIsa, TheExecutableReportsThisProcesssIsaAndLayout) {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") || std::getenv("DNNL_MAX_CPU_ISA"))
    GTEST_SKIP() << "ONEDNN_MAX_CPU_ISA is set for the tests";
  const std::string line = onednn_line("");
  EXPECT_NE(line.find("  oneDNN   " + onednn_isa_name() + " kernels"), std::string::npos) << line;
  EXPECT_NE(line.find(onednn_uses_avx512() ? "runs NHWC" : "runs NCHW"), std::string::npos) << line;
  EXPECT_EQ(onednn_uses_avx512(), onednn_isa_name().rfind("avx512", 0) == 0) << onednn_isa_name();
}

// oneDNN's cap is how an AVX-512 machine runs as an AVX2 one: the layout follows the cap.
TEST(CpuIsa, TheLayoutFollowsOnednnsCap) {
  const std::string capped = onednn_line("ONEDNN_MAX_CPU_ISA=AVX2");
  EXPECT_NE(capped.find("  oneDNN   avx2 kernels"), std::string::npos) << capped;
  EXPECT_NE(capped.find("runs NCHW activations"), std::string::npos) << capped;
  if (onednn_uses_avx512()) {
    const std::string line = onednn_line("ONEDNN_MAX_CPU_ISA=AVX512_CORE");
    EXPECT_NE(line.find("  oneDNN   avx512_core kernels"), std::string::npos) << line;
    EXPECT_NE(line.find("runs NHWC activations"), std::string::npos) << line;
  }
}

// A build without oneDNN's header (bench/gpu_build.sh against a pip LibTorch) reads AVX-512 from
// the CPU's flags; uncapped, it must choose the layout oneDNN's own answer chooses here.
TEST(CpuIsa, TheFallbackWithoutOnednnAgreesWithOnednn) {
  if (std::getenv("ONEDNN_MAX_CPU_ISA") || std::getenv("DNNL_MAX_CPU_ISA"))
    GTEST_SKIP() << "ONEDNN_MAX_CPU_ISA is set for the tests";
  const std::string out = testing::command_output(BIGGAN_CPU_ISA_FALLBACK " 2>&1");
  const std::string expected = onednn_uses_avx512() ? "1 avx512_core (the CPU's flags" : "0 avx2 (the CPU's flags";
  EXPECT_EQ(out.rfind(expected, 0), 0u) << out << " (oneDNN: " << onednn_isa_name() << ")";
}

}  // namespace
}  // namespace biggan::core
