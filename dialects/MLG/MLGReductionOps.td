//===- MLGReductionOps.td - reductions ---------------------*- tablegen -*-===//
//
// Reductions over a set of axes and arg-reductions over one axis. Axes are
// non-negative, sorted and unique at import; ONNX's "no axes means all" is
// spelled out, so an empty list really means no reduction.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGREDUCTIONOPS_TD
#define MLG_DIALECT_MLG_MLGREDUCTIONOPS_TD

include "MLGBase.td"

class MLG_ReduceOp<string mnemonic, Type type = MLG_NumericTensor,
                   list<Trait> traits = []>
    : MLG_InferredOp<mnemonic, !listconcat(traits,
                                           [SameOperandsAndResultElementType])> {
  let summary = mnemonic # " over axes";
  let description = [{
    ```mlir
    %y = mlg.}] # mnemonic # [{ %x {axes = array<i64: 2>, keepdims = true} : (tensor<4x16x768xf32>) -> tensor<4x16x1xf32>
    ```
  }];
  let arguments = (ins type:$input, DenseI64ArrayAttr:$axes, BoolAttr:$keepdims);
  let results = (outs type:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MLG_ReduceMeanOp : MLG_ReduceOp<"reduce_mean", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceSumOp : MLG_ReduceOp<"reduce_sum", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceMaxOp : MLG_ReduceOp<"reduce_max", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceMinOp : MLG_ReduceOp<"reduce_min", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceProdOp : MLG_ReduceOp<"reduce_prod", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceSumSquareOp : MLG_ReduceOp<"reduce_sum_square", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceL1Op : MLG_ReduceOp<"reduce_l1", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceL2Op : MLG_ReduceOp<"reduce_l2", MLG_NumericTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceLogSumOp : MLG_ReduceOp<"reduce_log_sum", MLG_FloatTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;
def MLG_ReduceLogSumExpOp : MLG_ReduceOp<"reduce_log_sum_exp", MLG_FloatTensor,
    [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]>;

class MLG_ArgReduceOp<string mnemonic> : MLG_InferredOp<mnemonic> {
  let summary = "index of the " # mnemonic # " along one axis";
  let description = [{
    Ties go to the first index, or to the last with `select_last_index`.

    ```mlir
    %i = mlg.}] # mnemonic # [{ %x {axis = 1 : i64, keepdims = false, select_last_index = false} : (tensor<8x1000xf32>) -> tensor<8xi64>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$input, I64Attr:$axis,
                   BoolAttr:$keepdims, BoolAttr:$select_last_index);
  let results = (outs MLG_I64Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def MLG_ArgMaxOp : MLG_ArgReduceOp<"argmax">;
def MLG_ArgMinOp : MLG_ArgReduceOp<"argmin">;

#endif // MLG_DIALECT_MLG_MLGREDUCTIONOPS_TD
