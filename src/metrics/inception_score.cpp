#include "metrics/inception_score.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace biggan::metrics {

void add_split_sums(const torch::Tensor& log_p, std::int64_t first, std::int64_t chunk, torch::Tensor& class_sums,
                    torch::Tensor& entropy) {
  const std::int64_t splits = class_sums.size(0);
  const std::int64_t keep = std::clamp<std::int64_t>(splits * chunk - first, 0, log_p.size(0));
  if (keep == 0) return;
  const torch::Tensor lp = log_p.narrow(0, 0, keep);
  const torch::Tensor p = lp.exp();
  const torch::Tensor plogp = torch::where(p > 0, p * lp, torch::zeros_like(p)).sum(1);
  const torch::Tensor split = torch::div(torch::arange(first, first + keep, torch::kInt64), chunk, "floor");
  class_sums.index_add_(0, split, p);
  entropy.index_add_(0, split, plogp);
}

InceptionScore score_from_split_sums(const torch::Tensor& class_sums, const torch::Tensor& entropy, std::int64_t chunk) {
  const auto splits = class_sums.size(0);
  const torch::Tensor cross =
      torch::where(class_sums > 0, class_sums * (class_sums / static_cast<double>(chunk)).log(), torch::zeros_like(class_sums))
          .sum(1);
  const torch::Tensor scores = ((entropy - cross) / static_cast<double>(chunk)).exp();
  InceptionScore out;
  out.mean = scores.mean().item<double>();
  out.std = splits > 1 ? scores.std(/*unbiased=*/false).item<double>() : 0.0;
  return out;
}

InceptionScore inception_score(const torch::Tensor& logits, int splits) {
  if (logits.dim() != 2) throw Error("Inception Score: logits must be (N, classes)");
  if (splits < 1) throw Error("Inception Score: splits must be >= 1, got " + std::to_string(splits));
  const std::int64_t chunk = logits.size(0) / splits;
  if (chunk < 1)
    throw Error("Inception Score: " + std::to_string(logits.size(0)) + " samples cannot make " + std::to_string(splits) +
                " splits");
  const torch::Tensor log_p = torch::log_softmax(logits.to(torch::kCPU, torch::kFloat64), 1);
  torch::Tensor class_sums = torch::zeros({splits, log_p.size(1)}, torch::kFloat64);
  torch::Tensor entropy = torch::zeros({splits}, torch::kFloat64);
  add_split_sums(log_p, 0, chunk, class_sums, entropy);
  return score_from_split_sums(class_sums, entropy, chunk);
}

InceptionScoreAccumulator::InceptionScoreAccumulator(std::int64_t total, int splits)
    : total_(total), chunk_(splits > 0 ? total / splits : 0), splits_(splits) {
  if (splits < 1) throw Error("Inception Score: splits must be >= 1, got " + std::to_string(splits));
  if (chunk_ < 1)
    throw Error("Inception Score: " + std::to_string(total) + " samples cannot make " + std::to_string(splits) + " splits");
  entropy_ = torch::zeros({splits}, torch::kFloat64);
}

void InceptionScoreAccumulator::add(const torch::Tensor& logits, std::int64_t global_offset) {
  const torch::Tensor log_p = torch::log_softmax(logits.detach().to(torch::kCPU, torch::kFloat64), 1);
  if (!class_sums_.defined()) class_sums_ = torch::zeros({splits_, log_p.size(1)}, torch::kFloat64);
  add_split_sums(log_p, global_offset, chunk_, class_sums_, entropy_);
}

InceptionScore InceptionScoreAccumulator::finalize(distributed::Collectives& collectives) const {
  // A rank without samples learns the class count from the others.
  torch::Tensor width = torch::tensor({class_sums_.defined() ? class_sums_.size(1) : 0}, torch::kInt64);
  collectives.allreduce_(width, distributed::ReduceOp::max);
  torch::Tensor sums = class_sums_.defined() ? class_sums_.clone()
                                             : torch::zeros({splits_, width.item<std::int64_t>()}, torch::kFloat64);
  torch::Tensor entropy = entropy_.clone();
  collectives.allreduce_(sums);
  collectives.allreduce_(entropy);
  return score_from_split_sums(sums, entropy, chunk_);
}

}  // namespace biggan::metrics
