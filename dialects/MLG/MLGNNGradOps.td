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

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

// The result shapes of both convolution backward ops are explicit: with a
// stride above 1, the forward's input (or kernel) size is not a function of
// the output's. The verifiers check that a forward convolution of those
// shapes gives `output_grad`'s.

def MLG_ConvBackwardDataOp : MLG_Op<"conv_backward_data", [
    Pure, DeclareOpInterfaceMethods<MLG_WorkspaceOpInterface>,
    DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "gradient of a convolution with respect to its input";
  let description = [{
    The transposed convolution of `output_grad` `[N, M, out...]` with the
    forward's `weight` `[M, C / group, K...]`, giving the gradient
    `[N, C, in...]` of the forward's input. The attributes are the forward
    convolution's. The workspace holds one image's and one group's column
    matrix, as the forward's im2col buffer (`(C / group) * prod(K)` rows by
    `prod(out)` columns), which is scattered back onto the input.

    ```mlir
    %dx = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>} : (tensor<8x64x112x112xf32>, tensor<64x3x7x7xf32>) -> tensor<8x3x224x224xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$weight,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs MLG_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $weight attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_ConvBackwardFilterOp : MLG_Op<"conv_backward_filter", [
    Pure, DeclareOpInterfaceMethods<MLG_WorkspaceOpInterface>,
    DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "gradient of a convolution with respect to its weight";
  let description = [{
    Correlates `output_grad` `[N, M, out...]` with the forward's `input`
    `[N, C, in...]` and sums over the batch, giving the gradient
    `[M, C / group, K...]` of the forward's weight. The attributes are the
    forward convolution's. The workspace holds the im2col matrix of one image
    and one group, as the forward's.

    ```mlir
    %dw = mlg.conv_backward_filter %dy, %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>} : (tensor<8x64x112x112xf32>, tensor<8x3x224x224xf32>) -> tensor<64x3x7x7xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$input,
                   DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                   DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs MLG_FloatTensor:$weight_grad);
  let assemblyFormat = "$output_grad `,` $input attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def MLG_MaxPoolBackwardOp : MLG_InferredOp<"max_pool_backward"> {
  let summary = "gradient of max pooling with respect to its input";
  let description = [{
    Routes each element of `output_grad` to the position of its window's
    maximum in the forward's `input`, found again by the forward kernel's
    rule (the first maximum in row-major tap order; a NaN wins), and sums
    where windows overlap. A window wholly in the padding routes nowhere.
    The attributes are the forward pool's; it serves `mlg.max_pool`,
    `mlg.max_pool_with_indices` and, with one window per plane,
    `mlg.global_max_pool`.

    ```mlir
    %dx = mlg.max_pool_backward %dy, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<8x64x56x56xf32>, tensor<8x64x112x112xf32>) -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$input,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   BoolAttr:$ceil_mode);
  let results = (outs MLG_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $input attr-dict `:` "
                       "functional-type(operands, results)";
}

def MLG_AveragePoolBackwardOp : MLG_Op<"average_pool_backward", [Pure]> {
  let summary = "gradient of average pooling with respect to its input";
  let description = [{
    Spreads each element of `output_grad` evenly over the taps of its window
    that lie in the input, divided by the forward's divisor (the taps in the
    input, or with `count_include_pad` in the padded input; never those past
    the end padding in ceil mode), and sums where windows overlap. It reads
    no forward value. The attributes are the forward pool's; the result's
    shape, the forward input's, is explicit (a stride above 1 loses it).

    ```mlir
    %dx = mlg.average_pool_backward %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<8x256x28x28xf32>) -> tensor<8x256x56x56xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad,
                   DenseI64ArrayAttr:$kernel_shape, DenseI64ArrayAttr:$strides,
                   DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations,
                   BoolAttr:$ceil_mode, BoolAttr:$count_include_pad);
  let results = (outs MLG_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

def MLG_BatchNormBackwardOp : MLG_InferredOp<"batch_norm_backward", [
    AttrSizedOperandSegments, MLG_InPlaceElementwise]> {
  let summary = "gradients of batch normalization";
  let description = [{
    The gradients of a batch norm's input, scale and bias from its output's
    gradient. Without `mean` and `var` it differentiates the training form:
    the kernel recomputes each channel's batch mean and inverse standard
    deviation from `input` (so the forward keeps nothing else), and the input
    gradient flows through them:
    `dx = scale * rstd * (dy - mean(dy) - xhat * mean(dy * xhat))`. With
    `mean` and `var` it differentiates the inference form, where they are
    constants: `dx = dy * scale / sqrt(var + epsilon)`. Either way
    `dscale = sum(dy * xhat)` and `dbias = sum(dy)` over every dimension but
    the channel. As in `mlg.batch_norm`, the per-channel operands may have
    another float type than the input; the scale and bias gradients have the
    scale's. `input_grad` may overwrite `output_grad` or `input`: a channel
    is read whole before any of it is written.

    ```mlir
    %dx, %ds, %db = mlg.batch_norm_backward %dy, %x, %s {epsilon = 1.0e-05 : f64} : (tensor<8x64x56x56xf32>, tensor<8x64x56x56xf32>, tensor<64xf32>) -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    %dx2, %ds2, %db2 = mlg.batch_norm_backward %dy, %x, %s mean %m var %v {epsilon = 1.0e-05 : f64} : (tensor<8x64x56x56xf32>, tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$input,
                   MLG_FloatTensor:$scale, Optional<MLG_FloatTensor>:$mean,
                   Optional<MLG_FloatTensor>:$var, F64Attr:$epsilon);
  let results = (outs MLG_FloatTensor:$input_grad, MLG_FloatTensor:$scale_grad,
                 MLG_FloatTensor:$bias_grad);
  let assemblyFormat = "$output_grad `,` $input `,` $scale (`mean` $mean^)? "
                       "(`var` $var^)? attr-dict `:` "
                       "functional-type(operands, results)";
}

def MLG_LayerNormBackwardOp : MLG_InferredOp<"layer_norm_backward", [
    MLG_InPlaceElementwise]> {
  let summary = "gradients of layer normalization's input and scale";
  let description = [{
    From the output's gradient, the forward's `input` and `scale` and the
    `mean` and `inv_std_dev` the forward returned (shaped as the input with
    the normalized dimensions from `axis` on set to 1): the input's gradient
    `rstd * (g - mean(g) - xhat * mean(g * xhat))` with `g = dy * scale`
    and the means over the normalized dimensions, and the scale's gradient
    `sum(dy * xhat)` reduced to the scale's (broadcast) shape. The bias's
    gradient is a plain sum of `dy` and no part of this op. `input_grad` may
    overwrite `output_grad` or `input`: a row is read whole before any of it
    is written.

    ```mlir
    %dx, %dg = mlg.layer_norm_backward %dy, %x, %g, %mean, %rstd {axis = 2 : i64} : (tensor<4x16x768xf32>, tensor<4x16x768xf32>, tensor<768xf32>, tensor<4x16x1xf32>, tensor<4x16x1xf32>) -> (tensor<4x16x768xf32>, tensor<768xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$input,
                   MLG_FloatTensor:$scale, MLG_FloatTensor:$mean,
                   MLG_FloatTensor:$inv_std_dev, I64Attr:$axis);
  let results = (outs MLG_FloatTensor:$input_grad,
                 MLG_FloatTensor:$scale_grad);
  let assemblyFormat = "operands attr-dict `:` "
                       "functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

class MLG_SoftmaxLikeBackwardOp<string mnemonic, string formula>
    : MLG_InferredOp<mnemonic, [MLG_InPlaceElementwise]> {
  let description = [{
    From the output's gradient `output_grad` and the forward's `output`,
    along `axis`: }] # formula # [{. The result may overwrite either
    operand: each slice along the axis is read whole before it is written.

    ```mlir
    %dx = mlg.}] # mnemonic # [{ %dy, %y {axis = 3 : i64} : (tensor<4x12x64x64xf32>, tensor<4x12x64x64xf32>) -> tensor<4x12x64x64xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_FloatTensor:$output,
                   I64Attr:$axis);
  let results = (outs MLG_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $output attr-dict `:` "
                       "functional-type(operands, results)";
}

def MLG_SoftmaxBackwardOp : MLG_SoftmaxLikeBackwardOp<"softmax_backward",
    "`dx = y * (dy - sum(dy * y))`"> {
  let summary = "gradient of softmax with respect to its input";
}

def MLG_LogSoftmaxBackwardOp : MLG_SoftmaxLikeBackwardOp<
    "log_softmax_backward", "`dx = dy - exp(y) * sum(dy)`"> {
  let summary = "gradient of log_softmax with respect to its input";
}

def MLG_DropoutBackwardOp : MLG_InferredOp<"dropout_backward", [
    MLG_InPlaceElementwise]> {
  let summary = "gradient of dropout in training form";
  let description = [{
    `dx = dy * mask / (1 - ratio)`, with the `mask` the forward dropout
    returned and its `ratio` (the forward's inference form, and a ratio of
    0, differentiate to the identity and need no op). The result may
    overwrite `output_grad`.

    ```mlir
    %dx = mlg.dropout_backward %dy, %mask {ratio = 1.0e-01 : f64} : (tensor<32x512x768xf32>, tensor<32x512x768xi1>) -> tensor<32x512x768xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$output_grad, MLG_BoolTensor:$mask,
                   F64Attr:$ratio);
  let results = (outs MLG_FloatTensor:$input_grad);
  let assemblyFormat = "$output_grad `,` $mask attr-dict `:` "
                       "functional-type(operands, results)";
}

#endif // MLG_DIALECT_MLG_MLGNNGRADOPS_TD
