//===- MLGOps.td - all mlg ops -----------------------------*- tablegen -*-===//
//
// The op set, split by category. Adding an op: declare it in its category's
// file, give it shape inference (or a verifier), and register its ONNX
// importer in lib/Import/Onnx/Ops/<category>.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGOPS_TD
#define MLG_DIALECT_MLG_MLGOPS_TD

include "MLGBase.td"
include "MLGElementwiseOps.td"
include "MLGTensorOps.td"
include "MLGNNOps.td"
include "MLGReductionOps.td"

#endif // MLG_DIALECT_MLG_MLGOPS_TD
