// The main() of the tests run under mpirun: every rank runs every test, only rank 0 prints, and
// the exit status is the worst of all ranks (a failure on rank 1 alone still fails the test).
// Like biggan_tests' main, each rank first takes the executable's OpenBLAS kernels (core/blas.h).
#pragma once

#include <gtest/gtest.h>
#include <mpi.h>

#include <functional>

#include "core/blas.h"
#include "distributed/context.h"

namespace biggan::testing {

inline int run_mpi_tests(int argc, char** argv, const std::function<void()>& root_cleanup = {}) {
  core::use_blas_kernels_for_this_cpu(argv);
  ::testing::InitGoogleTest(&argc, argv);
  auto& ctx = distributed::process_context();
  auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
  if (ctx.rank() != 0) delete listeners.Release(listeners.default_result_printer());
  int failed = RUN_ALL_TESTS();
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, ctx.comm());
  if (ctx.rank() == 0 && root_cleanup) root_cleanup();
  distributed::shutdown_process_context();
  return failed;
}

}  // namespace biggan::testing
