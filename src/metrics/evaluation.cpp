#include "metrics/evaluation.h"

#include "core/error.h"
#include "data/index_order.h"
#include "sample/noise.h"

namespace biggan::metrics {

GeneratorMetrics evaluate_generator(model::Generator& G, InceptionV3& net, const DatasetMoments* data,
                                    const EvaluationOptions& o, distributed::Collectives& collectives) {
  torch::NoGradGuard no_grad;
  net->eval();
  if (data && data->flavour != net->flavour())
    throw Error("the dataset moments were computed with the " + to_string(data->flavour) +
                " Inception, the evaluation uses " + to_string(net->flavour()) + "; recompute one of them");
  // Samples [0, num_images), each keyed by its index: the same set on any number of ranks.
  const std::int64_t total = o.num_images;
  const auto [first, last] = data::IndexOrder::shard(total, collectives.rank(), collectives.world_size());
  const auto device = G->parameters().front().device();
  MomentAccumulator moments;
  InceptionScoreAccumulator score(total, 10);
  const std::int64_t offset = first;
  for (std::int64_t done = 0; done < last - first; done += o.batch_size) {
    const std::int64_t n = std::min(o.batch_size, last - first - done);
    const auto latents = sample::keyed_latents(sample::LatentPurpose::evaluation, o.seed, first + done, n,
                                               G->dim_z, G->n_classes, o.z_var, o.truncation);
    const auto z = latents.z.to(device);
    const auto y = latents.y.to(device);
    const auto images = G->forward(z, G->shared(y)).clamp(-1, 1);
    const auto out = net->forward(images.to(net->parameters().front().device()));
    moments.add(out.pool);
    score.add(out.logits, offset + done);
  }
  GeneratorMetrics m;
  m.samples = total;
  m.inception_score = score.finalize(collectives);
  const Moments generated = moments.finalize(collectives);
  if (data) m.FID = frechet_distance(generated, data->moments);
  return m;
}

}  // namespace biggan::metrics
