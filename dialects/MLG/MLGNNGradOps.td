//===- MLGNNGradOps.td - backward ops of the NN ops --------*- tablegen -*-===//
//
// Explicit backward ops of convolution, pooling, normalization, softmax and
// dropout, created by those ops' buildGradient (Gradients/NNGradients.cpp).
// Each reads exactly the forward values its forward op's getBackwardReads
// lists, plus the incoming gradients.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGNNGRADOPS_TD
#define MLG_DIALECT_MLG_MLGNNGRADOPS_TD

include "MLGBase.td"

#endif // MLG_DIALECT_MLG_MLGNNGRADOPS_TD
