//===- MLGNNOps.td - neural-network ops --------------------*- tablegen -*-===//
//
// Convolution, pooling, normalization, dropout, matrix products, softmax and
// the LSTM. Spatial attributes are explicit and complete at import: `pads`
// holds every dimension's begin amounts then every end amount, `auto_pad` is
// resolved into them.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGNNOPS_TD
#define MLG_DIALECT_MLG_MLGNNOPS_TD

include "MLGBase.td"

def MLG_ConvOp : MLG_InferredOp<"conv", [
    DeclareOpInterfaceMethods<MLG_CostOpInterface>,
    DeclareOpInterfaceMethods<MLG_WorkspaceOpInterface>,
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "N-d grouped convolution (cross-correlation)";
  let description = [{
    ONNX Conv over `[N, C, D1, ...]` with weight `[M, C / group, K1, ...]`
    and optional bias `[M]`.

    ```mlir
    %y = mlg.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>} : (tensor<8x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$input, MLG_FloatTensor:$weight,
                   Optional<MLG_FloatTensor>:$bias, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   I64Attr:$group);
  let results = (outs MLG_FloatTensor:$output);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

class MLG_PoolOp<string mnemonic, dag extraArgs, list<Trait> traits = []>
    : MLG_InferredOp<mnemonic, traits> {
  let arguments = !con((ins MLG_NumericTensor:$input,
                            DenseI64ArrayAttr:$kernel_shape,
                            DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                            DenseI64ArrayAttr:$dilations, BoolAttr:$ceil_mode),
                       extraArgs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MLG_MaxPoolOp : MLG_PoolOp<"max_pool", (ins),
                               [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "N-d max pooling";
  let description = [{
    Padding never wins the max. With `ceil_mode`, the last window may start
    inside the input and run past the end padding.

    ```mlir
    %y = mlg.max_pool %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<8x64x112x112xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let results = (outs MLG_NumericTensor:$output);
}

def MLG_MaxPoolWithIndicesOp
    : MLG_PoolOp<"max_pool_with_indices", (ins I64Attr:$storage_order),
                 [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "N-d max pooling that also returns the argmax";
  let description = [{
    As `mlg.max_pool`, plus the flat index of each maximum in the input
    (row-major, or column-major over the spatial dims if `storage_order` is 1).
  }];
  let results = (outs MLG_NumericTensor:$output, MLG_I64Tensor:$indices);
}

def MLG_AveragePoolOp
    : MLG_PoolOp<"average_pool", (ins BoolAttr:$count_include_pad),
                 [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "N-d average pooling";
  let description = [{
    Averages each window; padded positions count only with
    `count_include_pad`.

    ```mlir
    %y = mlg.average_pool %x {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<8x256x56x56xf32>) -> tensor<8x256x28x28xf32>
    ```
  }];
  let results = (outs MLG_NumericTensor:$output);
}

class MLG_GlobalPoolOp<string mnemonic>
    : MLG_InferredOp<mnemonic,
                     [DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "pool each channel's whole spatial extent to one value";
  let description = [{
    ```mlir
    %y = mlg.}] # mnemonic # [{ %x : (tensor<8x512x7x7xf32>) -> tensor<8x512x1x1xf32>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$input);
  let results = (outs MLG_NumericTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}
def MLG_GlobalAveragePoolOp : MLG_GlobalPoolOp<"global_average_pool">;
def MLG_GlobalMaxPoolOp : MLG_GlobalPoolOp<"global_max_pool">;

def MLG_BatchNormOp : MLG_InferredOp<"batch_norm", [MLG_InPlaceElementwise,
    DeclareOpInterfaceMethods<MLG_GradientOpInterface, ["hasGradient"]>,
    DeclareOpInterfaceMethods<MLG_RecomputeOpInterface>]> {
  let summary = "batch normalization over the channel dimension (1)";
  let description = [{
    In inference form (`training = false`) it normalizes with `mean` and
    `var` and returns them unchanged as `running_mean`/`running_var`. In
    training form it normalizes with the batch statistics and returns the
    updated running statistics `running * momentum + batch * (1 - momentum)`
    (the biased batch variance there, as ONNX's reference computes it;
    PyTorch's own running variance uses the unbiased one).

    ```mlir
    %y, %m, %v = mlg.batch_norm %x, %s, %b, %mean, %var {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true} : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$input, MLG_FloatTensor:$scale,
                   MLG_FloatTensor:$bias, MLG_FloatTensor:$mean,
                   MLG_FloatTensor:$var, F64Attr:$epsilon, F64Attr:$momentum,
                   BoolAttr:$training);
  let results = (outs MLG_FloatTensor:$output, MLG_FloatTensor:$running_mean,
                 MLG_FloatTensor:$running_var);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

def MLG_LayerNormOp : MLG_InferredOp<"layer_norm", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "normalize over the dimensions from `axis` on";
  let description = [{
    Also returns the mean and the reciprocal standard deviation, shaped as the
    input with the normalized dimensions set to 1.

    ```mlir
    %y, %mean, %rstd = mlg.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-05 : f64} : (tensor<4x16x768xf32>, tensor<768xf32>, tensor<768xf32>) -> (tensor<4x16x768xf32>, tensor<4x16x1xf32>, tensor<4x16x1xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$input, MLG_FloatTensor:$scale,
                   Optional<MLG_FloatTensor>:$bias, I64Attr:$axis,
                   F64Attr:$epsilon);
  let results = (outs MLG_FloatTensor:$output, MLG_FloatTensor:$mean,
                 MLG_FloatTensor:$inv_std_dev);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def MLG_DropoutOp : MLG_InferredOp<"dropout", [MLG_InPlaceElementwise,
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "random zeroing with rescaling, in training form";
  let description = [{
    With `training`, zeroes each element with probability `ratio` and scales
    the rest by `1 / (1 - ratio)`; `mask` tells which were kept. The random
    stream is keyed by `seed` (unique per op at import) and the step, so two
    dropouts never share a mask and recomputing one reproduces it. Without
    `training` it is the identity and folds away.

    ```mlir
    %y, %mask = mlg.dropout %x {ratio = 1.0e-01 : f64, seed = 3 : i64, training = true} : (tensor<32x512x768xf32>) -> (tensor<32x512x768xf32>, tensor<32x512x768xi1>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$input, F64Attr:$ratio,
                   BoolAttr:$training, I64Attr:$seed);
  let results = (outs MLG_FloatTensor:$output, MLG_BoolTensor:$mask);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MLG_GemmOp : MLG_InferredOp<"gemm", [
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>,
    DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "alpha * op(A) * op(B) + beta * C";
  let description = [{
    ONNX Gemm: `A` is `[M, K]` (or `[K, M]` with `trans_a`), `B` is `[K, N]`
    (or `[N, K]` with `trans_b`); optional `C` broadcasts to `[M, N]`.
    With `recurrent` the product belongs to a recurrent layer (the unrolled
    LSTM's input projection over the whole sequence, and its gradients):
    backends give it the recurrent layers' precision (TF32 where PyTorch's
    cuDNN RNNs use it), not the matrix products'.

    ```mlir
    %y = mlg.gemm %a, %w, %b {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<8x512xf32>, tensor<1000x512xf32>, tensor<1000xf32>) -> tensor<8x1000xf32>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$a, MLG_NumericTensor:$b,
                   Optional<MLG_NumericTensor>:$c, F64Attr:$alpha,
                   F64Attr:$beta, BoolAttr:$trans_a, BoolAttr:$trans_b,
                   UnitAttr:$recurrent);
  let results = (outs MLG_NumericTensor:$output);
  let assemblyFormat = "$a `,` $b (`,` $c^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def MLG_MatMulOp : MLG_InferredOp<"matmul", [SameOperandsAndResultElementType,
                                            DeclareOpInterfaceMethods<MLG_GradientOpInterface>,
                                            DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "NumPy matmul: batched, broadcasting matrix product";
  let description = [{
    ```mlir
    %y = mlg.matmul %a, %b : (tensor<4x12x64x512xf32>, tensor<4x12x512x64xf32>) -> tensor<4x12x64x64xf32>
    ```
  }];
  let arguments = (ins MLG_NumericTensor:$lhs, MLG_NumericTensor:$rhs);
  let results = (outs MLG_NumericTensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

class MLG_SoftmaxLikeOp<string mnemonic>
    : MLG_Op<mnemonic, [Pure, SameOperandsAndResultType, InferTypeOpInterface,
                        DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = mnemonic # " along one axis";
  let description = [{
    ```mlir
    %y = mlg.}] # mnemonic # [{ %x {axis = 3 : i64} : tensor<4x12x64x64xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$input, I64Attr:$axis);
  let results = (outs MLG_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}
def MLG_SoftmaxOp : MLG_SoftmaxLikeOp<"softmax">;
def MLG_LogSoftmaxOp : MLG_SoftmaxLikeOp<"log_softmax">;

def MLG_LSTMOp : MLG_InferredOp<"lstm", [
    AttrSizedOperandSegments, DeclareOpInterfaceMethods<MLG_WorkspaceOpInterface>]> {
  let summary = "long short-term memory layer over a whole sequence";
  let description = [{
    ONNX LSTM in sequence-major layout (`layout = 1` is transposed at
    import), gates in ONNX order i, o, f, c, default activations (sigmoid,
    tanh, tanh). `X` is `[T, N, I]`, `W` `[D, 4H, I]`, `R` `[D, 4H, H]`, `B`
    `[D, 8H]`, initial states `[D, N, H]`, peepholes `P` `[D, 3H]`. Results:
    every hidden state `Y` `[T, D, N, H]`, and the last hidden and cell states
    `[D, N, H]`.

    ```mlir
    %y, %h, %c = mlg.lstm %x, %w, %r bias %b {direction = #mlg<direction forward>, hidden_size = 1024 : i64, input_forget = false} : (tensor<1000x64x512xf32>, tensor<1x4096x512xf32>, tensor<1x4096x1024xf32>, tensor<1x8192xf32>) -> (tensor<1000x1x64x1024xf32>, tensor<1x64x1024xf32>, tensor<1x64x1024xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$X, MLG_FloatTensor:$W,
                   MLG_FloatTensor:$R, Optional<MLG_FloatTensor>:$B,
                   Optional<MLG_FloatTensor>:$initial_h,
                   Optional<MLG_FloatTensor>:$initial_c,
                   Optional<MLG_FloatTensor>:$P, I64Attr:$hidden_size,
                   MLG_RnnDirectionAttr:$direction, OptionalAttr<F64Attr>:$clip,
                   BoolAttr:$input_forget);
  let results = (outs MLG_FloatTensor:$Y, MLG_FloatTensor:$Y_h,
                 MLG_FloatTensor:$Y_c);
  let assemblyFormat = [{
    $X `,` $W `,` $R (`bias` $B^)? (`initial_h` $initial_h^)?
    (`initial_c` $initial_c^)? (`peepholes` $P^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

#endif // MLG_DIALECT_MLG_MLGNNOPS_TD
