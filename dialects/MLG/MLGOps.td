//===- MLGOps.td - all mlg ops -----------------------------*- tablegen -*-===//
//
// The op set, split by category. Adding an op: declare it in its category's
// file, give it shape inference (or a verifier), and register its ONNX
// importer in lib/Import/Onnx/Ops/<category>.cpp. A differentiable op declares
// the GradientOpInterface; its gradient lives in Gradients/<category>.cpp and
// its backward ops, where it needs its own, in MLG<category>GradOps.td.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGOPS_TD
#define MLG_DIALECT_MLG_MLGOPS_TD

include "MLGBase.td"
include "MLGElementwiseOps.td"
include "MLGTensorOps.td"
include "MLGNNOps.td"
include "MLGReductionOps.td"
include "MLGRecurrentOps.td"
include "MLGNNGradOps.td"
include "MLGTensorGradOps.td"
include "MLGTrainingOps.td"

#endif // MLG_DIALECT_MLG_MLGOPS_TD
