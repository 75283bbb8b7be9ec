//===- RecurrentGradients.cpp - the LSTM's training form ------------------===//
//
// Shape inference and verifiers of the ops the unrolled LSTM is made of
// (mlg.lstm_cell, its backward, mlg.stack and mlg.unstack), and their
// gradients. A cell's gradient is one mlg.lstm_cell_backward, which returns
// that step's weight gradients; the training-step builder sums them over the
// steps. Stacking and unstacking differentiate into each other.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "../FoldUtils.h"

using namespace mlir;
using namespace mlg;

/// Checks that `v` (if present) is a static tensor of `shape` and `element`;
/// the diagnostic names it `name`.
static LogicalResult expectShape(std::optional<Location> loc, Value v,
                                 StringRef name, ArrayRef<int64_t> shape,
                                 Type element) {
  if (!v)
    return success();
  auto type = getStaticTensorType(v.getType());
  if (!type || type.getShape() != shape || type.getElementType() != element)
    return emitOptionalError(loc, name, " is ", v.getType(),
                             ", expected shape [",
                             llvm::make_range(shape.begin(), shape.end()),
                             "] of ", element);
  return success();
}

static LogicalResult verifyClip(std::optional<Location> loc,
                                std::optional<APFloat> clip) {
  if (clip && !(clip->convertToDouble() >= 0))
    return emitOptionalError(loc, "clip must be a non-negative number");
  return success();
}

//===----------------------------------------------------------------------===//
// LSTMCellOp
//===----------------------------------------------------------------------===//

LogicalResult LSTMCellOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto x = getStaticTensorType(adaptor.getX().getType());
  auto r = getStaticTensorType(adaptor.getR().getType());
  if (!x || x.getRank() != 2)
    return emitOptionalError(loc, "x must be a static [batch, input] tensor");
  // R [4H, H] gives the hidden size.
  if (!r || r.getRank() != 2 || r.getDimSize(1) <= 0 ||
      r.getDimSize(0) != 4 * r.getDimSize(1))
    return emitOptionalError(loc, "R must be [4H, H] with H > 0, got ",
                             adaptor.getR().getType());
  int64_t n = x.getDimSize(0), in = x.getDimSize(1), h = r.getDimSize(1);
  Type e = x.getElementType();
  // Projected, x is x W^T [N, 4H] and W [4H, I] any I.
  auto w = getStaticTensorType(adaptor.getW().getType());
  if (adaptor.getProjected()) {
    if (in != 4 * h)
      return emitOptionalError(loc, "a projected x must be [N, 4H] = [", n,
                               ", ", 4 * h, "], got ", x);
    if (!w || w.getRank() != 2)
      return emitOptionalError(loc, "W must be [4H, I]");
    in = w.getDimSize(1);
  }
  if (failed(expectShape(loc, adaptor.getR(), "R", {4 * h, h}, e)) ||
      failed(expectShape(loc, adaptor.getW(), "W", {4 * h, in}, e)) ||
      failed(expectShape(loc, adaptor.getHPrev(), "h_prev", {n, h}, e)) ||
      failed(expectShape(loc, adaptor.getCPrev(), "c_prev", {n, h}, e)) ||
      failed(expectShape(loc, adaptor.getB(), "B", {8 * h}, e)) ||
      failed(expectShape(loc, adaptor.getP(), "P", {3 * h}, e)) ||
      failed(verifyClip(loc, adaptor.getClip())))
    return failure();
  types.push_back(x.clone({n, h}));
  types.push_back(x.clone({n, h}));
  types.push_back(x.clone({n, 4 * h}));
  return success();
}

void LSTMCellOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  // A projected x only fed dW, which the projection's product gives.
  if (!getProjected())
    reads.push_back(getX());
  for (Value v : {getHPrev(), getCPrev()})
    if (v)
      reads.push_back(v);
  reads.append({getC(), getGates(), getW(), getR()});
  if (getP())
    reads.push_back(getP());
}

LogicalResult LSTMCellOp::buildGradient(OpBuilder &b,
                                        ArrayRef<Value> resultGrads,
                                        SmallVectorImpl<Value> &operandGrads) {
  // `gates` is only read by the backward: no gradient flows into it.
  Value hPrev = getHPrev(), cPrev = getCPrev(), bias = getB(), p = getP();
  auto typeOr = [](Value v, Value like) {
    return v ? like.getType() : Type();
  };
  bool projected = getProjected();
  auto back = LSTMCellBackwardOp::create(
      b, getLoc(), getX().getType(), typeOr(hPrev, hPrev),
      typeOr(cPrev, cPrev), projected ? Type() : getW().getType(),
      typeOr(hPrev, getR()), typeOr(bias, bias), typeOr(p, p), resultGrads[0],
      resultGrads[1], projected ? Value() : getX(), hPrev, cPrev, getC(),
      getGates(), getW(), getR(), p,
      /*dW_acc=*/Value(), /*dR_acc=*/Value(), /*dB_acc=*/Value(),
      getClipAttr(), getInputForgetAttr(), getProjectedAttr());
  // Present operands in order: x, h_prev, c_prev, W, R, B, P. Without
  // h_prev, R multiplied zeros and has no gradient from this step; a
  // projected cell gives W none (the projection's product does).
  operandGrads.assign({back.getDx()});
  if (hPrev)
    operandGrads.push_back(back.getDhPrev());
  if (cPrev)
    operandGrads.push_back(back.getDcPrev());
  operandGrads.append({back.getDW(), back.getDR()});
  if (bias)
    operandGrads.push_back(back.getDB());
  if (p)
    operandGrads.push_back(back.getDP());
  return success();
}

//===----------------------------------------------------------------------===//
// LSTMCellBackwardOp
//===----------------------------------------------------------------------===//

LogicalResult LSTMCellBackwardOp::verify() {
  auto c = getStaticTensorType(getC().getType());
  auto r = getStaticTensorType(getR().getType());
  auto w = getStaticTensorType(getW().getType());
  bool projected = getProjected();
  // Projected, the backward needs no x: dx is the pre-activations' gradient.
  if (projected && getX())
    return emitOpError("a projected cell's backward takes no x");
  if (!projected && !getX())
    return emitOpError("needs x unless the cell is projected");
  auto x = projected ? w : getStaticTensorType(getX().getType());
  if (!c || c.getRank() != 2 || !x || x.getRank() != 2)
    return emitOpError("needs x [batch, input] and c [batch, hidden]");
  int64_t n = c.getDimSize(0), h = c.getDimSize(1), in = x.getDimSize(1);
  Type e = c.getElementType();
  std::optional<Location> loc = getLoc();
  if (h <= 0)
    return emitOpError("needs a positive hidden size");
  if (projected && (failed(expectShape(loc, getDx(), "dx", {n, 4 * h}, e)) ||
                    getDW() || getDWAcc()))
    return projected && (getDW() || getDWAcc())
               ? emitOpError("a projected cell's backward has no dW")
               : failure();
  if (!getDh() && !getDc())
    return emitOpError("needs the gradient of h, of c, or of both");
  if (!r || failed(expectShape(loc, getR(), "R", {4 * h, h}, e)) ||
      failed(expectShape(loc, getX(), "x", {n, in}, e)) ||
      failed(expectShape(loc, getW(), "W", {4 * h, in}, e)) ||
      failed(expectShape(loc, getGates(), "gates", {n, 4 * h}, e)) ||
      failed(expectShape(loc, getDh(), "dh", {n, h}, e)) ||
      failed(expectShape(loc, getDc(), "dc", {n, h}, e)) ||
      failed(expectShape(loc, getHPrev(), "h_prev", {n, h}, e)) ||
      failed(expectShape(loc, getCPrev(), "c_prev", {n, h}, e)) ||
      failed(expectShape(loc, getP(), "P", {3 * h}, e)) ||
      failed(verifyClip(loc, getClip())))
    return failure();
  // Each gradient is present exactly when its forward value is, and has its
  // type; dB's presence says whether the cell had a bias.
  auto expectGrad = [&](Value grad, Value forward, StringRef name,
                        bool present) -> LogicalResult {
    if (bool(grad) != present)
      return emitOpError(name) << (present ? " is missing" : " is unexpected");
    if (grad && grad.getType() != forward.getType())
      return emitOpError(name) << " has type " << grad.getType()
                               << ", expected " << forward.getType();
    return success();
  };
  // An accumulator is a partial sum of its result: present only with it,
  // of its type.
  auto expectAccumulator = [&](Value acc, Value result,
                               StringRef name) -> LogicalResult {
    if (!acc)
      return success();
    if (!result)
      return emitOpError(name) << " accumulates a result the op does not have";
    if (acc.getType() != result.getType())
      return emitOpError(name) << " has type " << acc.getType()
                               << ", expected " << result.getType();
    return success();
  };
  if (failed(expectAccumulator(getDWAcc(), getDW(), "accumulate_w")) ||
      failed(expectAccumulator(getDRAcc(), getDR(), "accumulate_r")) ||
      failed(expectAccumulator(getDBAcc(), getDB(), "accumulate_b")))
    return failure();
  if ((!projected && failed(expectGrad(getDx(), getX(), "dx", true))) ||
      failed(expectGrad(getDhPrev(), getHPrev(), "dh_prev", bool(getHPrev()))) ||
      failed(expectGrad(getDcPrev(), getCPrev(), "dc_prev", bool(getCPrev()))) ||
      failed(expectGrad(getDW(), getW(), "dW", !projected)) ||
      // Projected, dR may be left to one product over the sequence
      // (-mlg-fold-gradient-sums).
      failed(expectGrad(getDR(), getR(), "dR",
                        projected && !getDR() ? false : bool(getHPrev()))) ||
      failed(expectGrad(getDP(), getP(), "dP", bool(getP()))))
    return failure();
  return expectShape(loc, getDB(), "dB", {8 * h}, e);
}

/// The pre-activations' gradients, N * 4H elements (projected: none, they
/// are dx).
int64_t LSTMCellBackwardOp::getWorkspaceBytes() {
  if (getProjected())
    return 0;
  auto gates = getGates().getType();
  return gates.getNumElements() * *elementByteSize(gates.getElementType());
}

/// dW, dR and dB may be written over their accumulators.
std::optional<unsigned>
LSTMCellBackwardOp::getInPlaceOperand(unsigned resultNumber) {
  Value result = getOperation()->getResult(resultNumber);
  for (auto [sum, acc] : {std::pair{getDW(), getDWAcc()},
                          std::pair{getDR(), getDRAcc()},
                          std::pair{getDB(), getDBAcc()}})
    if (sum && acc && sum == result)
      for (OpOperand &operand : getOperation()->getOpOperands())
        if (operand.get() == acc)
          return operand.getOperandNumber();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// StackOp and UnstackOp
//===----------------------------------------------------------------------===//

/// `whole` is `L ++ piece` with prod(L) == count, of the piece's element
/// type.
static LogicalResult verifyStacked(Operation *op, ShapedType whole,
                                   ShapedType piece, size_t count) {
  int64_t lead = whole.getRank() - piece.getRank();
  if (whole.getElementType() != piece.getElementType() || lead < 1 ||
      whole.getShape().drop_front(lead) != piece.getShape())
    return op->emitOpError("the stacked tensor ")
           << whole << " must be the pieces' shape " << piece
           << " under at least one leading dimension";
  std::optional<int64_t> n =
      checkedNumElements(whole.getShape().take_front(lead));
  if (!n || *n != int64_t(count))
    return op->emitOpError("the leading dimensions of ")
           << whole << " index " << (n ? *n : -1) << " pieces, there are "
           << count;
  return success();
}

/// Every value of `values` has the first one's type.
static LogicalResult verifyOneType(Operation *op, ValueRange values,
                                   StringRef what) {
  if (values.empty())
    return op->emitOpError("needs at least one ") << what;
  for (Value v : values)
    if (v.getType() != values.front().getType())
      return op->emitOpError("every ")
             << what << " must have one type, got " << v.getType() << " and "
             << values.front().getType();
  return success();
}

LogicalResult StackOp::verify() {
  if (failed(verifyOneType(*this, getInputs(), "input")))
    return failure();
  return verifyStacked(*this, getType(),
                       cast<ShapedType>(getInputs().front().getType()),
                       getInputs().size());
}

void StackOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult StackOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  auto pieces = UnstackOp::create(b, getLoc(), getInputs().getTypes(),
                                  resultGrads[0]);
  operandGrads.assign(pieces.getResults().begin(), pieces.getResults().end());
  return success();
}

LogicalResult UnstackOp::verify() {
  if (failed(verifyOneType(*this, getOutputs(), "result")))
    return failure();
  return verifyStacked(*this, getInput().getType(),
                       cast<ShapedType>(getOutputs().front().getType()),
                       getOutputs().size());
}

void UnstackOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult UnstackOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  // A piece nothing differentiable read contributes zeros (a splat: no
  // stored data).
  Location loc = getLoc();
  SmallVector<Value> pieces;
  Value zeros;
  for (auto [result, grad] : llvm::zip(getOutputs(), resultGrads)) {
    if (!grad && !zeros) {
      auto type = cast<ShapedType>(result.getType());
      zeros = ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(
              type, b.getFloatAttr(type.getElementType(), 0.0)));
    }
    pieces.push_back(grad ? grad : zeros);
  }
  operandGrads.assign(
      {StackOp::create(b, loc, getInput().getType(), pieces).getResult()});
  return success();
}
