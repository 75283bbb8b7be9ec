//===- MLGInterfaces.td - mlg op interfaces and traits -----*- tablegen -*-===//
//
// What the memory passes ask of an op: the scratch memory it needs while it
// runs, and whether its result may overwrite an operand that dies there.
// What the training-step builder asks of an op: its gradient. What the
// lowering asks of an op that updates parameters or state: which globals.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGINTERFACES_TD
#define MLG_DIALECT_MLG_MLGINTERFACES_TD

include "mlir/IR/OpBase.td"

def MLG_RecomputeOpInterface : OpInterface<"RecomputeOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op whose recomputation (a clone placed in the backward by
    -mlg-recompute) reads other values than the original does, one per
    operand. Batch norm in training form computes its output from the batch
    alone: its clone must not read the running statistics, which the
    original's stores have updated in place by then, so it passes its scale
    and bias in their place (the clone's running-statistics results are
    never read). Ops without it are recomputed from their own operands.
  }];
  let methods = [
    InterfaceMethod<
      "The operands a recomputing clone reads, one per operand.",
      "::llvm::SmallVector<::mlir::Value>", "getRecomputeOperands">,
  ];
}

def MLG_WorkspaceOpInterface : OpInterface<"WorkspaceOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op that needs scratch memory while it runs (the im2col buffer of a
    convolution, the gates of one LSTM step). The memory plan gives it that
    many bytes in the arena for the duration of the op, and the edge use-ref
    analysis counts them in the live bytes of its step.
  }];
  let methods = [
    InterfaceMethod<"Bytes of scratch memory the op needs while it runs.",
                    "int64_t", "getWorkspaceBytes">,
  ];
}

def MLG_CostOpInterface : OpInterface<"CostOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op whose work is matrix products (convolutions and their gradients,
    Gemm, MatMul, the LSTM's cells): its floating-point operations, which
    the cost model (`mlg/Passes/Analysis/CostModel.h`) turns into time at a
    device's matrix throughput. Every other op counts one operation per
    result element at the device's vector throughput; all ops move their
    operands' and results' bytes.
  }];
  let methods = [
    InterfaceMethod<
      "Floating-point operations of one execution (a multiply-add counts two).",
      "double", "getFlops">,
  ];
}

// An op whose first result can be written over an operand of the same shape
// and size that has no later use (in-place reuse): elementwise ops, and
// batch norm and dropout, whose first result is elementwise in their input.
// Their kernels read each element before writing the same position.
def MLG_InPlaceElementwise : NativeOpTrait<"InPlaceElementwise"> {
  let cppNamespace = "::mlg";
}

def MLG_InPlaceResultsOpInterface : OpInterface<"InPlaceResultsOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op some of whose results may be written over one of its operands of
    the same type when nothing reads that operand later (in-place reuse,
    as for MLG_InPlaceElementwise's first result): an accumulating
    product's result over its accumulator.
  }];
  let methods = [
    InterfaceMethod<[{The operand result `resultNumber` may overwrite, if
      any.}], "std::optional<unsigned>", "getInPlaceOperand",
      (ins "unsigned":$resultNumber)>,
  ];
}

def MLG_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    The gradient contract of a differentiable op, used by
    `-mlg-build-training-step` (reverse-mode differentiation over the
    schedule). An op states:

    - which operands have a gradient (`hasGradient`; by default every
      floating-point tensor operand): indices, labels, masks and shapes do
      not;
    - which of its forward values (its own operands and results) its
      backward reads (`getBackwardReads`): ReLU reads its output, a
      convolution's filter gradient reads its input, softmax reads its
      output. These are what training keeps alive from the forward pass,
      and what the edge use-ref analysis sees; the builder checks that the
      ops `buildGradient` creates read no other forward value;
    - how to build the backward (`buildGradient`): given the gradient of
      each result (null where none flows, e.g. a dropout mask or batch norm's
      running statistics), create ops at the builder's insertion point and
      return the gradient of each operand (null where it has none).

    Multi-result ops receive all their result gradients in one call. A
    value with several uses gets the sum of its uses' gradients; the builder
    does the summing, the op never sees it.
  }];
  let methods = [
    InterfaceMethod<[{
        Whether operand `index` has a gradient.
      }], "bool", "hasGradient", (ins "unsigned":$index), [{}], [{
        return ::mlg::isDifferentiableType($_op->getOperand(index).getType());
      }]>,
    InterfaceMethod<[{
        Appends the forward values (operands and results of this op) that
        the ops built by `buildGradient` read.
      }], "void", "getBackwardReads",
      (ins "::llvm::SmallVectorImpl<::mlir::Value> &":$reads)>,
    InterfaceMethod<[{
        Builds the backward at `b`'s insertion point. `resultGrads` has one
        entry per result, null where no gradient flows; `operandGrads` is
        resized to the number of operands and receives each operand's
        gradient (of the operand's type), or null.
      }], "::mlir::LogicalResult", "buildGradient",
      (ins "::mlir::OpBuilder &":$b,
           "::mlir::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

def MLG_GlobalUpdateOpInterface : OpInterface<"GlobalUpdateOpInterface"> {
  let cppNamespace = "::mlg";
  let description = [{
    An op that updates parameters or state in place (an optimizer step, a
    step counter): the globals it writes (the runtime step's outputs, in
    this order) and the globals it only reads (inputs after the tensor
    operands). Such ops have effects: dead-node elimination keeps them.
  }];
  let methods = [
    InterfaceMethod<"The globals the op writes, in order.",
      "::llvm::SmallVector<::mlir::FlatSymbolRefAttr>", "getWrittenGlobals">,
    InterfaceMethod<"The globals the op reads without writing, in order.",
      "::llvm::SmallVector<::mlir::FlatSymbolRefAttr>", "getReadGlobals",
      (ins), [{}], [{ return {}; }]>,
  ];
}

#endif // MLG_DIALECT_MLG_MLGINTERFACES_TD
