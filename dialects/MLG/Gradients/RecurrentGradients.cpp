//===- RecurrentGradients.cpp - gradients of the Recurrent ops
//-------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;
