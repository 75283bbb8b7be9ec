//===- TrainingOps.cpp - losses and optimizer updates ---------------------===//
//
// Verifiers of the ops -mlg-build-training-step adds, the losses' gradients,
// and the globals each update writes.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/Dialect/MLProgram/IR/MLProgram.h"

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// Logits [..., C], labels [...], a rank-0 loss of the logits' type.
static LogicalResult verifyClassification(Operation *op, ShapedType logits,
                                          ShapedType labels) {
  if (logits.getRank() < 1)
    return op->emitOpError("needs logits of rank 1 or more (classes last)");
  if (labels.getShape() != logits.getShape().drop_back())
    return op->emitOpError("labels of shape [")
           << labels.getShape() << "] do not match logits of shape ["
           << logits.getShape() << "] without their class dimension";
  return success();
}

static LogicalResult verifyScalarLoss(Operation *op, ShapedType loss,
                                      Type elementType) {
  if (loss.getRank() != 0 || loss.getElementType() != elementType)
    return op->emitOpError("loss must be a rank-0 tensor of ") << elementType;
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::verify() {
  if (failed(verifyClassification(*this, getLogits().getType(),
                                  getLabels().getType())))
    return failure();
  return verifyScalarLoss(*this, getLoss().getType(),
                          getLogits().getType().getElementType());
}

void SoftmaxCrossEntropyOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLogits(), getLabels()});
}

LogicalResult
SoftmaxCrossEntropyOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(getNumOperands(), nullptr);
  operandGrads[0] = SoftmaxCrossEntropyBackwardOp::create(
      b, getLoc(), getLogits().getType(), resultGrads[0], getLogits(),
      getLabels());
  return success();
}

LogicalResult SoftmaxCrossEntropyBackwardOp::verify() {
  if (failed(verifyClassification(*this, getLogits().getType(),
                                  getLabels().getType())))
    return failure();
  if (getDloss().getType().getRank() != 0 ||
      getDloss().getType().getElementType() !=
          getLogits().getType().getElementType())
    return emitOpError("dloss must be a rank-0 tensor of the logits' type");
  if (getDlogits().getType() != getLogits().getType())
    return emitOpError("the gradient must have the logits' type");
  return success();
}

std::optional<unsigned>
SoftmaxCrossEntropyBackwardOp::getInPlaceOperand(unsigned resultNumber) {
  return resultNumber == 0 ? std::optional<unsigned>(1) : std::nullopt;
}

LogicalResult MseLossOp::verify() {
  if (getPrediction().getType() != getTarget().getType())
    return emitOpError("prediction and target must have the same type");
  return verifyScalarLoss(*this, getLoss().getType(),
                          getPrediction().getType().getElementType());
}

void MseLossOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getPrediction(), getTarget()});
}

LogicalResult MseLossOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  // d/dp mean((p - t)^2) = 2 (p - t) / n; the target's is the negation.
  Location loc = getLoc();
  Type element = elementTypeOf(getPrediction());
  int64_t n = *checkedNumElements(shapeOf(getPrediction()));
  Value diff = SubOp::create(b, loc, getPrediction(), getTarget());
  Value scale = MulOp::create(b, loc, resultGrads[0],
                              scalarConstant(b, loc, element, 2.0 / n));
  Value dp = MulOp::create(b, loc, diff, scale);
  operandGrads.assign({dp, NegOp::create(b, loc, dp)});
  return success();
}

//===----------------------------------------------------------------------===//
// Updates
//===----------------------------------------------------------------------===//

/// The global `symbol` names, if it is a mutable ml_program.global.
static ml_program::GlobalOp lookupMutableGlobal(Operation *op,
                                                SymbolTableCollection &symbols,
                                                FlatSymbolRefAttr symbol) {
  auto global = symbols.lookupNearestSymbolFrom<ml_program::GlobalOp>(
      op, symbol.getAttr());
  if (!global) {
    op->emitOpError("names the unknown global ") << symbol;
    return nullptr;
  }
  if (!global.getIsMutable()) {
    op->emitOpError("updates the immutable global ") << symbol;
    return nullptr;
  }
  return global;
}

/// Every written global has `type` (the gradient's), except `counter`.
static LogicalResult verifyUpdateSymbols(Operation *op,
                                         SymbolTableCollection &symbols,
                                         ArrayRef<FlatSymbolRefAttr> tensors,
                                         Type type,
                                         FlatSymbolRefAttr counter = {}) {
  for (FlatSymbolRefAttr symbol : tensors) {
    auto global = lookupMutableGlobal(op, symbols, symbol);
    if (!global)
      return failure();
    if (global.getType() != type)
      return op->emitOpError("global ")
             << symbol << " has type " << global.getType() << ", the gradient "
             << type;
  }
  if (counter) {
    auto global = lookupMutableGlobal(op, symbols, counter);
    if (!global)
      return failure();
    auto t = dyn_cast<RankedTensorType>(global.getType());
    if (!t || t.getRank() != 0 || !t.getElementType().isInteger(64))
      return op->emitOpError("step counter ")
             << counter << " must be a tensor<i64>";
  }
  return success();
}

static LogicalResult verifyRate(Operation *op, StringRef name, double value,
                                bool belowOne = false) {
  if (!(value >= 0) || (belowOne && !(value < 1)))
    return op->emitOpError(name) << " = " << value << " must lie in "
                                 << (belowOne ? "[0, 1)" : "[0, inf)");
  return success();
}

LogicalResult SgdUpdateOp::verify() {
  return success(
      succeeded(verifyRate(*this, "lr", getLr().convertToDouble())) &&
      succeeded(verifyRate(*this, "weight_decay",
                           getWeightDecay().convertToDouble())));
}
LogicalResult SgdUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUpdateSymbols(*this, symbols, {getParamAttr()},
                             getGrad().getType());
}
SmallVector<FlatSymbolRefAttr> SgdUpdateOp::getWrittenGlobals() {
  return {getParamAttr()};
}

LogicalResult MomentumUpdateOp::verify() {
  return success(
      succeeded(verifyRate(*this, "lr", getLr().convertToDouble())) &&
      succeeded(verifyRate(*this, "momentum", getMomentum().convertToDouble(),
                           true)) &&
      succeeded(verifyRate(*this, "weight_decay",
                           getWeightDecay().convertToDouble())));
}
LogicalResult
MomentumUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUpdateSymbols(
      *this, symbols, {getParamAttr(), getVelocityAttr()}, getGrad().getType());
}
SmallVector<FlatSymbolRefAttr> MomentumUpdateOp::getWrittenGlobals() {
  return {getParamAttr(), getVelocityAttr()};
}

LogicalResult AdamUpdateOp::verify() {
  return success(
      succeeded(verifyRate(*this, "lr", getLr().convertToDouble())) &&
      succeeded(
          verifyRate(*this, "beta1", getBeta1().convertToDouble(), true)) &&
      succeeded(
          verifyRate(*this, "beta2", getBeta2().convertToDouble(), true)) &&
      succeeded(verifyRate(*this, "epsilon", getEpsilon().convertToDouble())) &&
      succeeded(verifyRate(*this, "weight_decay",
                           getWeightDecay().convertToDouble())));
}
LogicalResult AdamUpdateOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUpdateSymbols(*this, symbols,
                             {getParamAttr(), getMAttr(), getVAttr()},
                             getGrad().getType(), getStepAttr());
}
SmallVector<FlatSymbolRefAttr> AdamUpdateOp::getWrittenGlobals() {
  return {getParamAttr(), getMAttr(), getVAttr()};
}
SmallVector<FlatSymbolRefAttr> AdamUpdateOp::getReadGlobals() {
  return {getStepAttr()};
}

LogicalResult IncrementStepOp::verify() { return success(); }
LogicalResult
IncrementStepOp::verifySymbolUses(SymbolTableCollection &symbols) {
  return verifyUpdateSymbols(*this, symbols, {}, Type(), getCounterAttr());
}
SmallVector<FlatSymbolRefAttr> IncrementStepOp::getWrittenGlobals() {
  return {getCounterAttr()};
}
