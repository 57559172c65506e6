// OpenBLAS's kernels: which fallback is replaced, and what the biggan executable runs with.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "core/blas.h"
#include "../version_line.h"

namespace biggan::core {
namespace {

TEST(Blas, OnlyOpenBlasGenericFallbackIsReplaced) {
  EXPECT_EQ(blas_core_override("Prescott", true, true), "SkylakeX");
  EXPECT_EQ(blas_core_override("Prescott", true, false), "Haswell");
  EXPECT_EQ(blas_core_override("Prescott", false, false), "");  // a CPU the fallback fits
  for (const char* known : {"Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Zen"}) {
    EXPECT_EQ(blas_core_override(known, true, true), "") << known;
    EXPECT_EQ(blas_core_override(known, true, false), "") << known;
  }
  EXPECT_EQ(blas_core_override("", true, true), "");  // not OpenBLAS
}

// The BLAS line of `biggan --version`, run with `environment` in front.
std::string blas_line(const std::string& environment) {
  return testing::version_line("-u OPENBLAS_CORETYPE -u BIGGAN_OPENBLAS_DETECTED " + environment, "  BLAS     ");
}

bool cpu_has_avx2_fma() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

TEST(Blas, TheExecutableRunsKernelsThatFitTheCpu) {
  if (blas_core().empty()) GTEST_SKIP() << "LibTorch's BLAS here is not OpenBLAS";
  const char* detected = std::getenv("BIGGAN_OPENBLAS_DETECTED");
  if (std::getenv("OPENBLAS_CORETYPE") && !detected) GTEST_SKIP() << "OPENBLAS_CORETYPE is set for the tests";
  const std::string line = blas_line("");
  ASSERT_NE(line.find("  BLAS     OpenBLAS "), std::string::npos) << line;
  if (cpu_has_avx2_fma()) {
    EXPECT_EQ(line.find("core Prescott"), std::string::npos) << line;
  }
  // This test process restarted itself as the executable does (tests/test_main.cpp), so what
  // OpenBLAS chose for it is what it chose for the executable.
  if (detected) {
    EXPECT_NE(line.find(", set by biggan: OpenBLAS chose " + std::string(detected) + ")"), std::string::npos) << line;
  } else {
    EXPECT_NE(line.find("(core " + blas_core() + ", chosen by OpenBLAS)"), std::string::npos) << line;
  }
}

// Results computed in this process are compared with ones the executable wrote, some to 1e-9:
// both must run the same kernels.
TEST(Blas, TheTestsRunTheExecutablesKernels) {
  if (blas_core().empty()) GTEST_SKIP() << "LibTorch's BLAS here is not OpenBLAS";
  if (std::getenv("OPENBLAS_CORETYPE") && !std::getenv("BIGGAN_OPENBLAS_DETECTED"))
    GTEST_SKIP() << "OPENBLAS_CORETYPE is set for the tests";
  const std::string line = blas_line("");
  EXPECT_NE(line.find("(core " + blas_core() + ", "), std::string::npos) << line;
}

TEST(Blas, TheUsersCoreTypeIsKept) {
  if (blas_core().empty()) GTEST_SKIP() << "LibTorch's BLAS here is not OpenBLAS";
  const std::string line = blas_line("OPENBLAS_CORETYPE=Prescott");
  EXPECT_NE(line.find("(core Prescott, from OPENBLAS_CORETYPE)"), std::string::npos) << line;
}

}  // namespace
}  // namespace biggan::core
