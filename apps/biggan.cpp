// The biggan executable: everything lives in the library; this is the one catch.
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/allocation_guard.h"
#include "cli/cli.h"
#include "core/blas.h"
#include "core/error.h"
#include "distributed/context.h"
#include "logging/log.h"

int main(int argc, char** argv) {
  biggan::core::use_blas_kernels_for_this_cpu(argv);
  try {
    biggan::cli::guard_cpu_allocations();
    const int status = biggan::cli::dispatch(argc, argv);
    biggan::distributed::shutdown_process_context();
    return status;
  } catch (const biggan::UsageError& e) {
    std::cerr << ("biggan: " + std::string(e.what()) + "\n") << std::flush;
    const auto* ctx = biggan::distributed::Context::current();
    if (ctx && ctx->world_size() > 1) ctx->abort(2);
    return 2;
  } catch (const std::exception& e) {
    const auto* ctx = biggan::distributed::Context::current();
    if (ctx && ctx->world_size() > 1) {
      // One write per message: ranks failing together must not interleave their lines.
      std::cerr << ("biggan: error on rank " + std::to_string(ctx->rank()) + " (" + ctx->host() +
                    "): " + biggan::user_message(e) + "\n")
                << std::flush;
      ctx->abort(1);  // MPI_Abort: the other ranks must not wait for this one forever
    }
    std::cerr << ("biggan: error: " + biggan::user_message(e) + "\n") << std::flush;
    // Skip the libraries' exit handlers: after a failed write HDF5 would try to close its files
    // again at exit and can crash, hiding this message's exit status. Our files are synced.
    std::cout.flush();
    std::_Exit(1);
  }
}
