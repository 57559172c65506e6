#include "distributed/context.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <memory>

#include "core/error.h"

namespace biggan::distributed {

namespace {
const Context* g_current = nullptr;

void check_mpi(int rc, const char* what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(std::string(what) + " failed: " + std::string(text, len));
}
}  // namespace

Context::Context(int* argc, char*** argv) { init(argc, argv); }
Context::Context() { init(nullptr, nullptr); }

void Context::init(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &thread_level_), "MPI_Init_thread");
    owns_mpi_ = true;
  } else {
    MPI_Query_thread(&thread_level_);
  }
  adopt(MPI_COMM_WORLD);
  g_current = this;
}

Context::Context(MPI_Comm comm) {
  MPI_Query_thread(&thread_level_);
  adopt(comm);
}

void Context::adopt(MPI_Comm comm) {
  // Our own communicator so library traffic never mixes with a caller's.
  check_mpi(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  // Errors come back as codes that we turn into exceptions (and then MPI_Abort), instead of
  // MPI's default of killing the process without our message.
  MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm_, &rank_);
  MPI_Comm_size(comm_, &world_size_);
  MPI_Comm node_comm;
  check_mpi(MPI_Comm_split_type(comm_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node_comm), "MPI_Comm_split_type");
  MPI_Comm_rank(node_comm, &local_rank_);
  MPI_Comm_size(node_comm, &local_size_);
  MPI_Comm_free(&node_comm);
  char name[256] = {0};
  ::gethostname(name, sizeof name - 1);
  host_ = name;
}

Context::~Context() {
  if (g_current == this) g_current = nullptr;
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
  if (owns_mpi_) MPI_Finalize();
}

void Context::barrier() const { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

std::string Context::broadcast(const std::string& value, int root) const {
  if (world_size_ == 1) return value;
  long long size = static_cast<long long>(value.size());
  check_mpi(MPI_Bcast(&size, 1, MPI_LONG_LONG, root, comm_), "MPI_Bcast");
  std::string out = rank_ == root ? value : std::string(static_cast<std::size_t>(size), '\0');
  if (size > 0) check_mpi(MPI_Bcast(out.data(), static_cast<int>(size), MPI_CHAR, root, comm_), "MPI_Bcast");
  return out;
}

void Context::abort(int exit_code) const {
  std::cout.flush();
  std::cerr.flush();
  if (world_size_ > 1) MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(exit_code);
}

const Context* Context::current() { return g_current; }

namespace {
std::unique_ptr<Context>& owned_context() {
  static std::unique_ptr<Context> context;
  return context;
}
}  // namespace

Context& process_context() {
  auto& c = owned_context();
  if (!c) c = std::make_unique<Context>();
  return *c;
}

void shutdown_process_context() { owned_context().reset(); }

std::string mpi_library_version() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {0};
  int len = 0;
  MPI_Get_library_version(text, &len);
  std::string s(text, static_cast<std::size_t>(len));
  const auto end = s.find_first_of("\n,");
  return end == std::string::npos ? s : s.substr(0, end);
}

}  // namespace biggan::distributed
