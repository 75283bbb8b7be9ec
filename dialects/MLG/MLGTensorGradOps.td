//===- MLGTensorGradOps.td - backward ops of elementwise, tensor and
//                           reduction ops ---------------------*- tablegen -*-===//
//
// The backward ops that are not compositions of forward ops (which is how
// most elementwise, tensor and reduction gradients are built): created by
// buildGradient in Gradients/{Elementwise,Tensor,Reduction}Gradients.cpp.
//
// The activation backwards read the forward *output* where the derivative
// can be written in it (ReLU, sigmoid, tanh), so the forward op may overwrite
// its input; each is one pass over its operands instead of the two to four
// temporaries a composition of forward ops would allocate. The layout
// backwards scatter the incoming gradient into a zero tensor of the forward
// operand's shape, which no forward op can do without a large constant.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD
#define MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD

include "MLGBase.td"

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

// dx from the result's gradient `dy` and one forward value of the same type.
// Elementwise, so dx may take the buffer of `dy` (or of the forward value,
// when it dies here).
class MLG_ActivationBackwardOp<string mnemonic, string forwardName,
                               dag extraArgs = (ins)>
    : MLG_Op<mnemonic, [Pure, SameOperandsAndResultType,
                        MLG_InPlaceElementwise]> {
  let arguments = !con(!dag(ins, [MLG_FloatTensor, MLG_FloatTensor],
                            ["dy", forwardName]),
                       extraArgs);
  let results = (outs MLG_FloatTensor:$dx);
  let assemblyFormat =
      "$dy `,` $" # forwardName # " attr-dict `:` type($dx)";
}

def MLG_ReluBackwardOp : MLG_ActivationBackwardOp<"relu_backward", "y"> {
  let summary = "gradient of relu from its output";
  let description = [{
    `dx = y > 0 ? dy : 0`, with `y = relu(x)` the forward result: `y > 0`
    exactly where `x > 0`, so the backward needs only the output and relu
    may run in place over its input. The derivative at 0 is taken as 0 (as
    PyTorch does).

    ```mlir
    %dx = mlg.relu_backward %dy, %y : tensor<8x64x56x56xf32>
    ```
  }];
}

def MLG_SigmoidBackwardOp : MLG_ActivationBackwardOp<"sigmoid_backward", "y"> {
  let summary = "gradient of sigmoid from its output";
  let description = [{
    `dx = dy * y * (1 - y)`, with `y = sigmoid(x)` the forward result.

    ```mlir
    %dx = mlg.sigmoid_backward %dy, %y : tensor<35x20x512xf32>
    ```
  }];
}

def MLG_TanhBackwardOp : MLG_ActivationBackwardOp<"tanh_backward", "y"> {
  let summary = "gradient of tanh from its output";
  let description = [{
    `dx = dy * (1 - y * y)`, with `y = tanh(x)` the forward result.

    ```mlir
    %dx = mlg.tanh_backward %dy, %y : tensor<35x20x512xf32>
    ```
  }];
}

def MLG_ClipBackwardOp : MLG_ActivationBackwardOp<"clip_backward", "x",
    (ins OptionalAttr<F64Attr>:$min, OptionalAttr<F64Attr>:$max)> {
  let summary = "gradient of clip from its input";
  let description = [{
    `dx = (x >= min && x <= max) ? dy : 0`, with `x` the forward operand and
    a missing bound unbounded. At a bound the gradient passes (as PyTorch's
    `clamp` does): the output cannot tell `x == max` from `x > max`, which
    is why this reads the input.

    ```mlir
    %dx = mlg.clip_backward %dy, %x {max = 6.0 : f64, min = 0.0 : f64} : tensor<8x32x112x112xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

def MLG_SliceBackwardOp : MLG_Op<"slice_backward", [Pure]> {
  let summary = "gradient of slice: scatter into zeros of the input's shape";
  let description = [{
    The adjoint of `mlg.slice` with the same normalized `starts`, `ends` and
    `steps` (positive or negative): `dx` has the sliced tensor's type, holds
    `dy` at the positions the slice read and 0 everywhere else. A slice
    visits each position at most once, so nothing accumulates.

    ```mlir
    %dx = mlg.slice_backward %dy {ends = array<i64: 2, -1>, starts = array<i64: 0, 9>, steps = array<i64: 1, -2>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
    ```
  }];
  let arguments = (ins MLG_Tensor:$dy, DenseI64ArrayAttr:$starts,
                   DenseI64ArrayAttr:$ends, DenseI64ArrayAttr:$steps);
  let results = (outs MLG_Tensor:$dx);
  let assemblyFormat = "$dy attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_PadBackwardOp : MLG_Op<"pad_backward", [Pure]> {
  let summary = "gradient of pad: sum each output's gradient into its source";
  let description = [{
    The adjoint of `mlg.pad` with the same `pads` and `mode`: every element
    of `dy` adds into the operand element the pad copied it from (with
    `reflect` and `edge` an operand element feeds several outputs; constant
    padding feeds none). Negative pads crop: cropped operand elements get 0.
    `dx` has the padded operand's type.

    ```mlir
    %dx = mlg.pad_backward %dy {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<2x9xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$dy, DenseI64ArrayAttr:$pads,
                   MLG_PadModeAttr:$mode);
  let results = (outs MLG_FloatTensor:$dx);
  let assemblyFormat = "$dy attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_GatherBackwardOp : MLG_Op<"gather_backward", [Pure]> {
  let summary = "gradient of gather: scatter-add into zeros of the data's shape";
  let description = [{
    The adjoint of `mlg.gather` along `axis`: `dx` has the gathered data's
    type and `dx[i..., indices[j...], k...] += dy[i..., j..., k...]`, so an
    index that appears several times (a word used twice in a batch)
    receives the sum of its rows' gradients. Negative indices count from
    the end; an index out of range is an error at run time.

    ```mlir
    %dtable = mlg.gather_backward %dy, %ids {axis = 0 : i64} : (tensor<35x20x512xf32>, tensor<35x20xi64>) -> tensor<10000x512xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$dy, MLG_IndexTensor:$indices,
                   I64Attr:$axis);
  let results = (outs MLG_FloatTensor:$dx);
  let assemblyFormat =
      "$dy `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // MLG_DIALECT_MLG_MLGTENSORGRADOPS_TD
