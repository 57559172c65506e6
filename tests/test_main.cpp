// The main() of biggan_tests. It first takes the OpenBLAS kernels the biggan executable takes
// (core/blas.h): tests that compare a result computed here with one the executable wrote would
// otherwise compare two different kernels' rounding.
#include <gtest/gtest.h>

#include "core/blas.h"

int main(int argc, char** argv) {
  biggan::core::use_blas_kernels_for_this_cpu(argv);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
