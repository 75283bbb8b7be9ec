//===- MLGTensorOps.td - data movement and shape ops -------*- tablegen -*-===//
//
// Constants, shape queries and data movement (reshape, transpose, concat,
// split, slice, gather, pad, expand, tile). ONNX's Flatten, Squeeze and
// Unsqueeze import as `mlg.reshape`; Identity imports as its operand;
// ConstantOfShape, Size and Range import as `mlg.constant`.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGTENSOROPS_TD
#define MLG_DIALECT_MLG_MLGTENSOROPS_TD

include "MLGBase.td"

def MLG_ConstantOp : MLG_Op<"constant", [ConstantLike, Pure,
                                         InferTypeOpAdaptor]> {
  let summary = "constant tensor";
  let description = [{
    A tensor known at compile time: dense elements, or a `dense_resource`
    blob for large values.

    ```mlir
    %c = mlg.constant dense<[1, 512, 768]> : tensor<3xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def MLG_ShapeOp : MLG_InferredOp<"shape"> {
  let summary = "the dimensions [start, end) of a tensor's shape";
  let description = [{
    Returns dimensions `start` to `end` (exclusive, both non-negative and
    clamped at import) of the operand's static shape. Always folds.

    ```mlir
    %s = mlg.shape %x {end = 2 : i64, start = 0 : i64} : tensor<8x3x5xf32> -> tensor<2xi64>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs MLG_I64Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
}

def MLG_ReshapeOp : MLG_Op<"reshape", [Pure, SameOperandsAndResultElementType,
                                      DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "reinterpret a tensor with another shape";
  let description = [{
    Same elements in row-major order, new static shape given by the result
    type (ONNX's `0` and `-1` are resolved at import). A view: no data moves.

    ```mlir
    %y = mlg.reshape %x : tensor<2x3x4xf32> to tensor<6x4xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MLG_TransposeOp : MLG_InferredOp<"transpose", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "permute dimensions";
  let description = [{
    Result dimension `i` is operand dimension `perm[i]`.

    ```mlir
    %y = mlg.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MLG_ConcatOp : MLG_InferredOp<"concat", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "join tensors along an axis";
  let description = [{
    ```mlir
    %y = mlg.concat %a, %b {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
    ```
  }];
  let arguments = (ins Variadic<MLG_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MLG_SplitOp : MLG_InferredOp<"split", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "cut a tensor into pieces along an axis";
  let description = [{
    ```mlir
    %a, %b = mlg.split %x {axis = 1 : i64, sizes = array<i64: 2, 4>} : (tensor<3x6xf32>) -> (tensor<3x2xf32>, tensor<3x4xf32>)
    ```
  }];
  let arguments = (ins MLG_Tensor:$input, I64Attr:$axis, DenseI64ArrayAttr:$sizes);
  let results = (outs Variadic<MLG_Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MLG_SliceOp : MLG_InferredOp<"slice", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "strided slice over every dimension";
  let description = [{
    Normalized ONNX Slice: one `(start, end, step)` per dimension, already
    clamped. For a positive step, `0 <= start <= end <= dim`; for a negative
    step, `-1 <= end <= start <= dim - 1` (end -1 means through index 0).
    Dimension `i` of the result has `max(0, ceil((end - start) / step))`
    elements.

    ```mlir
    %y = mlg.slice %x {ends = array<i64: 2, 8>, starts = array<i64: 0, 4>, steps = array<i64: 1, 1>} : (tensor<2x10xf32>) -> tensor<2x4xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MLG_GatherOp : MLG_InferredOp<"gather", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "take entries along an axis";
  let description = [{
    ONNX Gather: `out[i..., j..., k...] = data[i..., indices[j...], k...]`
    with `axis` the gathered dimension; negative indices count from the end.

    ```mlir
    %e = mlg.gather %table, %ids {axis = 0 : i64} : (tensor<10000x512xf32>, tensor<35x20xi64>) -> tensor<35x20x512xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$data, MLG_IndexTensor:$indices, I64Attr:$axis);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat =
      "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MLG_PadOp : MLG_InferredOp<"pad", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "pad (or crop, with negative amounts) every dimension";
  let description = [{
    `pads` holds the amounts before every dimension, then after every
    dimension. `mode` is `constant` (with `value`), `reflect` or `edge`.

    ```mlir
    %y = mlg.pad %x {mode = #mlg<pad_mode constant>, pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$input, DenseI64ArrayAttr:$pads,
                   MLG_PadModeAttr:$mode, F64Attr:$value);
  let results = (outs MLG_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MLG_ExpandOp : MLG_Op<"expand", [Pure, SameOperandsAndResultElementType,
                                     DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "broadcast to a larger shape";
  let description = [{
    Broadcasts the operand to the result type's shape (ONNX Expand with its
    shape operand resolved at import).

    ```mlir
    %y = mlg.expand %x : tensor<3x1xf32> to tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($output)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def MLG_TileOp : MLG_InferredOp<"tile", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "repeat a tensor along every dimension";
  let description = [{
    ```mlir
    %y = mlg.tile %x {repeats = array<i64: 2, 1>} : (tensor<3x4xf32>) -> tensor<6x4xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // MLG_DIALECT_MLG_MLGTENSOROPS_TD
