#include "distributed/collectives.h"

#include <cstring>
#include <exception>
#include <ATen/Context.h>

#ifdef BIGGAN_WITH_NCCL
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nccl.h>
#endif

#include "core/error.h"

namespace biggan::distributed {

namespace {

MPI_Datatype mpi_type(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return MPI_FLOAT;
    case torch::kFloat64: return MPI_DOUBLE;
    case torch::kInt64: return MPI_INT64_T;
    case torch::kInt32: return MPI_INT32_T;
    case torch::kUInt8: return MPI_UINT8_T;
    default: throw Error(std::string("MPI collectives: unsupported dtype ") + c10::toString(t));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::max: return MPI_MAX;
    case ReduceOp::min: return MPI_MIN;
  }
  return MPI_SUM;
}

std::string mpi_error(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  return std::string(text, static_cast<std::size_t>(len));
}

}  // namespace

torch::Device rank_device(const Context& context) {
  if (!torch::cuda::is_available()) return torch::kCPU;
  // Every shape in a run is fixed, so cuDNN's autotuner pays for itself after the first
  // iteration; BigGAN-PyTorch's train.py sets torch.backends.cudnn.benchmark the same way.
  at::globalContext().setBenchmarkCuDNN(true);
  return torch::Device(torch::kCUDA, context.local_rank() % torch::cuda::device_count());
}

#ifdef BIGGAN_WITH_NCCL
struct Collectives::Nccl {
  ncclComm_t comm = nullptr;
  ~Nccl() {
    // ncclCommDestroy first waits for this rank's enqueued collectives, which a rank unwinding an
    // error of its own may hold unmatched (the peers are elsewhere): it would wait for ever.
    // ncclCommAbort ends them; main()'s MPI_Abort then ends the job.
    if (comm && std::uncaught_exceptions() > 0) ncclCommAbort(comm);
    else if (comm) ncclCommDestroy(comm);
  }
  static ncclDataType_t type(torch::ScalarType t) {
    switch (t) {
      case torch::kFloat32: return ncclFloat32;
      case torch::kFloat64: return ncclFloat64;
      case torch::kBFloat16: return ncclBfloat16;
      case torch::kFloat16: return ncclFloat16;
      case torch::kInt64: return ncclInt64;
      case torch::kInt32: return ncclInt32;
      case torch::kUInt8: return ncclUint8;
      default: throw Error(std::string("NCCL: unsupported dtype ") + c10::toString(t));
    }
  }
  static ncclRedOp_t op(ReduceOp o) {
    return o == ReduceOp::sum ? ncclSum : o == ReduceOp::max ? ncclMax : ncclMin;
  }
};
#else
struct Collectives::Nccl {};
#endif

Collectives::Collectives(const Context& context, const torch::Device& device, Backend backend)
    : context_(context), device_(device) {
  if (backend == Backend::nccl) {
#ifndef BIGGAN_WITH_NCCL
    throw Error("dist.backend: nccl, but this build has no NCCL (build with -DBIGGAN_WITH_NCCL=ON, or use auto | mpi)");
#endif
    if (!device_.is_cuda())
      throw Error("dist.backend: nccl needs CUDA tensors; this rank runs on " + device_.str() + " (use auto | mpi)");
  }
#ifdef BIGGAN_WITH_NCCL
  // An explicit nccl makes a communicator even for one rank, so that a single-GPU run takes the
  // NCCL path that a multi-GPU job will (auto skips collectives on one rank).
  if (backend != Backend::mpi && device_.is_cuda() && (context_.world_size() > 1 || backend == Backend::nccl)) {
    ncclUniqueId id;
    if (context_.rank() == 0 && ncclGetUniqueId(&id) != ncclSuccess) fail("ncclGetUniqueId");
    const int rc = MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, context_.comm());
    if (rc != MPI_SUCCESS) fail("MPI_Bcast of the NCCL id: " + mpi_error(rc));
    nccl_ = std::make_unique<Nccl>();
    c10::cuda::CUDAGuard guard(device_);
    const ncclResult_t r = ncclCommInitRank(&nccl_->comm, context_.world_size(), id, context_.rank());
    if (r != ncclSuccess) fail(std::string("ncclCommInitRank: ") + ncclGetErrorString(r));
  }
#endif
}

Collectives::~Collectives() = default;

std::string Collectives::backend() const {
  if (nccl_) return "nccl";
  return context_.world_size() == 1 ? "none" : "mpi";
}

bool Collectives::communicates() const { return context_.world_size() > 1 || nccl_ != nullptr; }

void Collectives::fail(const std::string& what) const {
  throw Error("rank " + std::to_string(context_.rank()) + " on " + context_.host() + ": " + what);
}

void Collectives::mpi_allreduce(torch::Tensor& cpu, ReduceOp op) {
  const int rc = MPI_Allreduce(MPI_IN_PLACE, cpu.data_ptr(), static_cast<int>(cpu.numel()), mpi_type(cpu.scalar_type()),
                               mpi_op(op), context_.comm());
  if (rc != MPI_SUCCESS) fail("MPI_Allreduce of " + std::to_string(cpu.numel()) + " values: " + mpi_error(rc));
}

void Collectives::allreduce_(torch::Tensor& tensor, ReduceOp op) {
  if (!communicates()) return;
  if (!tensor.is_contiguous()) fail("allreduce_ needs a contiguous tensor");
  if (tensor.numel() > std::numeric_limits<int>::max()) fail("allreduce_: tensor too large for one call");
#ifdef BIGGAN_WITH_NCCL
  if (tensor.is_cuda() && nccl_) {
    const auto stream = c10::cuda::getCurrentCUDAStream(tensor.device().index());
    const ncclResult_t r = ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                                         Nccl::type(tensor.scalar_type()), Nccl::op(op), nccl_->comm, stream.stream());
    if (r != ncclSuccess) fail(std::string("ncclAllReduce: ") + ncclGetErrorString(r));
    return;
  }
#endif
  if (tensor.device().is_cpu() && tensor.scalar_type() != torch::kBFloat16 && tensor.scalar_type() != torch::kFloat16) {
    mpi_allreduce(tensor, op);
    return;
  }
  // CUDA without NCCL, or half types: through a float/host copy.
  torch::Tensor host = tensor.to(torch::kCPU, tensor.is_floating_point() ? torch::kFloat32 : tensor.scalar_type());
  mpi_allreduce(host, op);
  tensor.copy_(host);
}

void Collectives::broadcast_(torch::Tensor& tensor, int root) {
  if (!communicates()) return;
  if (!tensor.is_contiguous()) fail("broadcast_ needs a contiguous tensor");
#ifdef BIGGAN_WITH_NCCL
  if (tensor.is_cuda() && nccl_) {
    const auto stream = c10::cuda::getCurrentCUDAStream(tensor.device().index());
    const ncclResult_t r = ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<std::size_t>(tensor.numel()),
                                         Nccl::type(tensor.scalar_type()), root, nccl_->comm, stream.stream());
    if (r != ncclSuccess) fail(std::string("ncclBroadcast: ") + ncclGetErrorString(r));
    return;
  }
#endif
  torch::Tensor host = tensor.device().is_cpu() ? tensor : tensor.to(torch::kCPU);
  const auto bytes = static_cast<std::int64_t>(host.numel()) * static_cast<std::int64_t>(host.element_size());
  if (bytes > std::numeric_limits<int>::max()) fail("broadcast_: tensor too large for one call");
  const int rc = MPI_Bcast(host.data_ptr(), static_cast<int>(bytes), MPI_BYTE, root, context_.comm());
  if (rc != MPI_SUCCESS) fail("MPI_Bcast: " + mpi_error(rc));
  if (!tensor.device().is_cpu()) tensor.copy_(host);
}

torch::Tensor Collectives::allgather(const torch::Tensor& tensor) {
  const torch::Tensor host = tensor.to(torch::kCPU).contiguous();
  std::vector<std::int64_t> shape{context_.world_size()};
  shape.insert(shape.end(), host.sizes().begin(), host.sizes().end());
  torch::Tensor out = torch::empty(shape, host.options());
  const auto bytes = static_cast<int>(host.numel() * static_cast<std::int64_t>(host.element_size()));
  const int rc = MPI_Allgather(host.data_ptr(), bytes, MPI_BYTE, out.data_ptr(), bytes, MPI_BYTE, context_.comm());
  if (rc != MPI_SUCCESS) fail("MPI_Allgather: " + mpi_error(rc));
  return out.to(tensor.device());
}

namespace {

struct AllreduceSum : torch::autograd::Function<AllreduceSum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               Collectives* collectives) {
    ctx->saved_data["collectives"] = reinterpret_cast<std::int64_t>(collectives);
    torch::Tensor out = input.contiguous().clone();
    collectives->allreduce_(out);
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* collectives = reinterpret_cast<Collectives*>(ctx->saved_data["collectives"].toInt());
    torch::Tensor grad = grads[0].contiguous().clone();
    collectives->allreduce_(grad);
    return {grad, torch::Tensor()};
  }
};

std::uint64_t checksum(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over the raw bits
  for (std::size_t i = 0, n = static_cast<std::size_t>(c.numel()) * c.element_size(); i < n; ++i)
    h = (h ^ bytes[i]) * 1099511628211ULL;
  return h;
}

}  // namespace

torch::Tensor differentiable_allreduce_sum(const torch::Tensor& tensor, Collectives& collectives) {
  if (!collectives.communicates()) return tensor;
  return AllreduceSum::apply(tensor, &collectives);
}

void average_across_ranks(const std::vector<torch::Tensor>& tensors, Collectives& collectives,
                          std::int64_t bucket_bytes) {
  if (!collectives.communicates()) return;
  std::size_t i = 0;
  while (i < tensors.size()) {
    // One bucket: consecutive tensors of one dtype and device up to bucket_bytes.
    std::vector<torch::Tensor> bucket{tensors[i]};
    std::int64_t bytes = tensors[i].numel() * tensors[i].element_size();
    std::size_t j = i + 1;
    while (j < tensors.size() && bytes < bucket_bytes && tensors[j].scalar_type() == tensors[i].scalar_type() &&
           tensors[j].device() == tensors[i].device()) {
      bytes += tensors[j].numel() * tensors[j].element_size();
      bucket.push_back(tensors[j++]);
    }
    std::vector<torch::Tensor> flat_parts;
    for (const auto& t : bucket) flat_parts.push_back(t.reshape({-1}));
    torch::Tensor flat = torch::cat(flat_parts);
    collectives.allreduce_(flat);
    flat.div_(collectives.world_size());
    std::int64_t offset = 0;
    for (auto& t : bucket) {
      t.copy_(flat.narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
    i = j;
  }
}

void broadcast_state(torch::nn::Module& module, Collectives& collectives) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    torch::Tensor t = p.detach().contiguous();
    collectives.broadcast_(t);
    if (!t.is_same(p)) p.detach().copy_(t);
  }
  for (auto& b : module.buffers()) {
    torch::Tensor t = b.contiguous();
    collectives.broadcast_(t);
    if (!t.is_same(b)) b.copy_(t);
  }
}

std::vector<Divergence> divergent_tensors(const torch::nn::Module& module, Collectives& collectives,
                                          std::size_t limit) {
  std::vector<std::string> names;
  std::vector<std::int64_t> sums;
  for (const auto& p : module.named_parameters()) {
    names.push_back(p.key());
    sums.push_back(static_cast<std::int64_t>(checksum(p.value())));
  }
  for (const auto& b : module.named_buffers()) {
    names.push_back(b.key());
    sums.push_back(static_cast<std::int64_t>(checksum(b.value())));
  }
  torch::Tensor mine = torch::tensor(sums, torch::kInt64);
  torch::Tensor root = mine.clone();
  collectives.broadcast_(root);
  // Which ranks differ from rank 0, per tensor: every rank learns every divergence.
  const torch::Tensor differs = collectives.allgather((mine != root).to(torch::kInt64)).to(torch::kCPU);
  std::vector<Divergence> out;
  for (std::size_t i = 0; i < names.size() && out.size() < limit; ++i) {
    Divergence d{names[i], {}};
    for (int r = 0; r < collectives.world_size(); ++r)
      if (differs[r][static_cast<std::int64_t>(i)].item<std::int64_t>() != 0) d.ranks.push_back(r);
    if (!d.ranks.empty()) out.push_back(std::move(d));
  }
  return out;
}

}  // namespace biggan::distributed
