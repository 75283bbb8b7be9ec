//===- MLGTrainingOps.td - losses, optimizers, step counter --*- tablegen -*-===//
//
// What -mlg-build-training-step adds around the forward pass: a loss and its
// backward, and the optimizer updates that write parameters and optimizer
// state in place (ops with effects, named by symbol; the lowering turns the
// globals into the runtime step's outputs).
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGTRAININGOPS_TD
#define MLG_DIALECT_MLG_MLGTRAININGOPS_TD

include "MLGBase.td"
include "mlir/IR/SymbolInterfaces.td"

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

def MLG_SoftmaxCrossEntropyOp : MLG_Op<"softmax_cross_entropy", [
    Pure, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "mean cross entropy of softmax(logits) against class labels";
  let description = [{
    Classes lie on the last axis of `logits`; `labels` has the other
    dimensions and holds class indices in [0, C). The loss is the mean over
    all label positions of `-log softmax(logits)[label]` (PyTorch's
    `cross_entropy` with `reduction='mean'`), a rank-0 tensor.

    ```mlir
    %loss = mlg.softmax_cross_entropy %logits, %labels : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$logits, MLG_IndexTensor:$labels);
  let results = (outs MLG_FloatTensor:$loss);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_SoftmaxCrossEntropyBackwardOp
    : MLG_Op<"softmax_cross_entropy_backward", [Pure,
        DeclareOpInterfaceMethods<MLG_InPlaceResultsOpInterface>]> {
  let summary = "gradient of softmax_cross_entropy with respect to the logits";
  let description = [{
    `(softmax(logits) - onehot(labels)) * dloss / count`, where count is the
    number of label positions. The gradient may be written over the logits
    where nothing reads them later (kernels take each row's statistics
    before writing it): a language model's logits are its largest tensor.

    ```mlir
    %dx = mlg.softmax_cross_entropy_backward %dloss, %logits, %labels : (tensor<f32>, tensor<8x10xf32>, tensor<8xi64>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$dloss, MLG_FloatTensor:$logits,
                   MLG_IndexTensor:$labels);
  let results = (outs MLG_FloatTensor:$dlogits);
  let assemblyFormat = "$dloss `,` $logits `,` $labels attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_MseLossOp : MLG_Op<"mse_loss", [
    Pure, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "mean squared error";
  let description = [{
    The mean over all elements of `(prediction - target)^2`, a rank-0 tensor
    (PyTorch's `mse_loss` with `reduction='mean'`).

    ```mlir
    %loss = mlg.mse_loss %y, %t : (tensor<8x1xf32>, tensor<8x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$prediction, MLG_FloatTensor:$target);
  let results = (outs MLG_FloatTensor:$loss);
  let assemblyFormat = "$prediction `,` $target attr-dict `:` "
                       "functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Optimizer updates
//===----------------------------------------------------------------------===//

class MLG_UpdateOp<string mnemonic, dag args, list<string> overrides = []>
    : MLG_Op<mnemonic, [
        MemoryEffects<[MemRead, MemWrite]>,
        DeclareOpInterfaceMethods<MLG_GlobalUpdateOpInterface, overrides>,
        DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let arguments = args;
  let hasVerifier = 1;
}

def MLG_SgdUpdateOp : MLG_UpdateOp<"sgd_update", (ins
    FlatSymbolRefAttr:$param, MLG_FloatTensor:$grad, F64Attr:$lr,
    F64Attr:$weight_decay)> {
  let summary = "plain SGD step on a parameter, in place";
  let description = [{
    `param -= lr * (grad + weight_decay * param)` (PyTorch's `SGD` without
    momentum).

    ```mlir
    mlg.sgd_update @fc.weight, %g {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<10x32xf32>
    ```
  }];
  let assemblyFormat = "$param `,` $grad attr-dict `:` type($grad)";
}

def MLG_MomentumUpdateOp : MLG_UpdateOp<"momentum_update", (ins
    FlatSymbolRefAttr:$param, FlatSymbolRefAttr:$velocity,
    MLG_FloatTensor:$grad, F64Attr:$lr, F64Attr:$momentum,
    F64Attr:$weight_decay, BoolAttr:$nesterov)> {
  let summary = "SGD with momentum on a parameter and its velocity, in place";
  let description = [{
    PyTorch's `SGD(momentum=m, dampening=0)`: `g = grad + weight_decay *
    param; velocity = m * velocity + g; param -= lr * (nesterov ? g + m *
    velocity : velocity)`. The velocity starts at zero, which gives
    PyTorch's first step (`velocity = g`).

    ```mlir
    mlg.momentum_update @fc.weight, @fc.weight.velocity, %g {lr = 0.1 : f64, momentum = 0.9 : f64, nesterov = false, weight_decay = 0.0 : f64} : tensor<10x32xf32>
    ```
  }];
  let assemblyFormat = "$param `,` $velocity `,` $grad attr-dict `:` type($grad)";
}

def MLG_AdamUpdateOp : MLG_UpdateOp<"adam_update", (ins
    FlatSymbolRefAttr:$param, FlatSymbolRefAttr:$m, FlatSymbolRefAttr:$v,
    FlatSymbolRefAttr:$step, MLG_FloatTensor:$grad, F64Attr:$lr,
    F64Attr:$beta1, F64Attr:$beta2, F64Attr:$epsilon, F64Attr:$weight_decay),
    ["getReadGlobals"]> {
  let summary = "Adam step on a parameter and its moments, in place";
  let description = [{
    PyTorch's `Adam` (L2 weight decay added to the gradient): with `t` the
    value of the step counter `step` (already incremented for this step),
    `g = grad + weight_decay * param; m = b1 m + (1 - b1) g;
    v = b2 v + (1 - b2) g^2; param -= lr * (m / (1 - b1^t)) /
    (sqrt(v / (1 - b2^t)) + epsilon)`.

    ```mlir
    mlg.adam_update @w, @w.adam_m, @w.adam_v, @mlg.step, %g {beta1 = 0.9 : f64, beta2 = 0.999 : f64, epsilon = 1.0e-08 : f64, lr = 1.0e-03 : f64, weight_decay = 0.0 : f64} : tensor<10x32xf32>
    ```
  }];
  let assemblyFormat = "$param `,` $m `,` $v `,` $step `,` $grad attr-dict `:` "
                       "type($grad)";
}

def MLG_IncrementStepOp : MLG_UpdateOp<"increment_step", (ins
    FlatSymbolRefAttr:$counter)> {
  let summary = "adds one to a step counter (a global tensor<i64>)";
  let description = [{
    Runs first in a training step whose optimizer needs the step number.

    ```mlir
    mlg.increment_step @mlg.step
    ```
  }];
  let assemblyFormat = "$counter attr-dict";
}

#endif // MLG_DIALECT_MLG_MLGTRAININGOPS_TD
