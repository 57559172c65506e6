// Which Inception v3 weights IS and FID use (eval.inception_flavour); metrics/inception.h says
// what each is. No torch: the config names it.
#pragma once

#include <string>

namespace biggan::metrics {

enum class InceptionFlavour { torchvision, fid };
std::string to_string(InceptionFlavour flavour);

}  // namespace biggan::metrics
