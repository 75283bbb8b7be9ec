//===- MLGTensorGradOps.td - backward ops of elementwise, tensor and
//                           reduction ops ---------------------*- tablegen -*-===//
//
// The backward ops that are not compositions of forward ops (which is how
// most elementwise, tensor and reduction gradients are built): created by
// buildGradient in Gradients/{Elementwise,Tensor,Reduction}Gradients.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD
#define MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD

include "MLGBase.td"

#endif // MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD
