//===- NNGradients.cpp - gradients of the NN ops -------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;
