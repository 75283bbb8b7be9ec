//===- TensorGradients.cpp - gradients of layout ops ----------------------===//
//
// Layout ops move elements; their gradients move them back. Where the
// adjoint is a forward layout op it is used directly (transpose by the
// inverse permutation, concat by slices, constant padding by a slice, expand
// by a sum, tile by a reshape and a sum); slice, edge/reflect padding and
// gather scatter into zeros and have backward ops of their own
// (MLGTensorGradOps.td), whose verifiers are here. No gradient materializes
// a zero tensor from a constant: where zeros are needed (split's results
// without a gradient), constant padding writes them.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include <algorithm>

using namespace mlir;
using namespace mlg;

void ReshapeOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ReshapeOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {reshapeTo(b, getLoc(), resultGrads[0], shapeOf(getInput()))});
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

void TransposeOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult TransposeOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  ArrayRef<int64_t> perm = getPerm();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = int64_t(i);
  operandGrads.assign({b.createOrFold<TransposeOp>(
      getLoc(), resultGrads[0], b.getDenseI64ArrayAttr(inverse))});
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp and SplitOp
//===----------------------------------------------------------------------===//

void ConcatOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ConcatOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  int64_t axis = getAxis();
  SmallVector<int64_t> starts(shapeOf(dy).size(), 0);
  SmallVector<int64_t> ends(shapeOf(dy));
  SmallVector<int64_t> steps(shapeOf(dy).size(), 1);
  operandGrads.clear();
  int64_t offset = 0;
  for (Value input : getInputs()) {
    int64_t size = shapeOf(input)[axis];
    starts[axis] = offset;
    ends[axis] = offset + size;
    offset += size;
    operandGrads.push_back(
        isDifferentiableType(input.getType())
            ? b.createOrFold<SliceOp>(getLoc(), dy, starts, ends, steps)
            : Value());
  }
  return success();
}

// The concatenation of the results' gradients. Results without one need
// zeros: each gradient is padded with zeros over the missing results that
// follow it (the first also over those before it), so the pieces still
// concatenate to the operand's shape and no zero tensor is built apart.
void SplitOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult SplitOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  operandGrads.assign(1, nullptr);
  if (!isDifferentiableType(getInput().getType()))
    return success();
  int64_t axis = getAxis();
  int64_t rank = int64_t(shapeOf(getInput()).size());
  ArrayRef<int64_t> sizes = getSizes();
  SmallVector<Value> pieces;
  int64_t zerosBefore = 0;
  for (size_t k = 0; k < resultGrads.size(); ++k) {
    if (!resultGrads[k]) {
      if (pieces.empty())
        zerosBefore += sizes[k];
      continue;
    }
    int64_t zerosAfter = 0;
    for (size_t j = k + 1; j < resultGrads.size() && !resultGrads[j]; ++j)
      zerosAfter += sizes[j];
    Value piece = resultGrads[k];
    if (zerosBefore || zerosAfter) {
      SmallVector<int64_t> pads(2 * rank, 0);
      pads[axis] = zerosBefore;
      pads[rank + axis] = zerosAfter;
      piece = PadOp::create(b, loc, piece, b.getDenseI64ArrayAttr(pads),
                            PadModeAttr::get(b.getContext(), PadMode::constant),
                            b.getF64FloatAttr(0.0));
    }
    zerosBefore = 0;
    pieces.push_back(piece);
  }
  if (pieces.empty())
    return success();
  operandGrads[0] = pieces.size() == 1
                        ? pieces.front()
                        : ConcatOp::create(b, loc, pieces, axis).getResult();
  return success();
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

void SliceOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult SliceOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                     SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  if (getInput().getType() == dy.getType() &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; })) {
    operandGrads.assign({dy});
    return success();
  }
  operandGrads.assign({SliceBackwardOp::create(
      b, getLoc(), getInput().getType(), dy, getStartsAttr(), getEndsAttr(),
      getStepsAttr())});
  return success();
}

/// Elements in the normalized [start, end) with step `step` (as the slice
/// verifier counts them).
static int64_t sliceLength(int64_t start, int64_t end, int64_t step) {
  if (step > 0)
    return end > start ? (end - start - 1) / step + 1 : 0;
  return start > end ? (start - end - 1) / -step + 1 : 0;
}

LogicalResult SliceBackwardOp::verify() {
  auto dx = getDx().getType(), dy = getDy().getType();
  if (dx.getElementType() != dy.getElementType())
    return emitOpError("dx and dy must have one element type");
  int64_t rank = dx.getRank();
  ArrayRef<int64_t> starts = getStarts(), ends = getEnds(), steps = getSteps();
  if (dy.getRank() != rank || int64_t(starts.size()) != rank ||
      int64_t(ends.size()) != rank || int64_t(steps.size()) != rank)
    return emitOpError("dx, dy, starts, ends and steps need one rank (")
           << rank << ")";
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = dx.getDimSize(d), s = starts[d], e = ends[d], st = steps[d];
    bool ok = st > 0 ? (0 <= s && s <= dim && 0 <= e && e <= dim)
                     : (st < 0 && st != INT64_MIN && -1 <= s && s <= dim - 1 &&
                        -1 <= e && e <= dim - 1);
    if (!ok)
      return emitOpError("dimension ")
             << d << " (size " << dim << "): start " << s << ", end " << e
             << ", step " << st << " are not normalized";
    if (sliceLength(s, e, st) != dy.getDimSize(d))
      return emitOpError("dimension ")
             << d << " of dy has size " << dy.getDimSize(d)
             << ", the slice has " << sliceLength(s, e, st);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// PadOp
//===----------------------------------------------------------------------===//

void PadOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult PadOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  auto inputType = getInput().getType();
  operandGrads.assign(1, nullptr);
  if (!isDifferentiableType(inputType))
    return success();
  ArrayRef<int64_t> pads = getPads();
  if (getMode() != PadMode::constant) {
    operandGrads[0] = PadBackwardOp::create(b, loc, inputType, dy,
                                            getPadsAttr(), getModeAttr());
    return success();
  }
  // Constant padding: the operand's elements that survive a crop are a
  // slice of dy; the cropped ones get zeros by padding that slice back.
  int64_t rank = inputType.getRank();
  SmallVector<int64_t> starts, ends, steps(rank, 1), zeros(2 * rank, 0);
  bool crops = false;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = inputType.getDimSize(d), before = pads[d];
    int64_t out = shapeOf(dy)[d];
    // Operand indices [lo, hi) land inside the result, at i + before.
    int64_t lo = std::clamp<int64_t>(-before, 0, dim);
    int64_t hi = std::clamp<int64_t>(out - before, lo, dim);
    starts.push_back(hi > lo ? lo + before : 0);
    ends.push_back(hi > lo ? hi + before : 0);
    zeros[d] = lo;
    zeros[rank + d] = dim - hi;
    crops |= lo > 0 || hi < dim;
  }
  Value dx = b.createOrFold<SliceOp>(loc, dy, starts, ends, steps);
  if (crops)
    dx = PadOp::create(b, loc, dx, b.getDenseI64ArrayAttr(zeros), getModeAttr(),
                       b.getF64FloatAttr(0.0));
  operandGrads[0] = dx;
  return success();
}

LogicalResult PadBackwardOp::verify() {
  auto dx = getDx().getType(), dy = getDy().getType();
  if (dx.getElementType() != dy.getElementType())
    return emitOpError("dx and dy must have one element type");
  int64_t rank = dx.getRank();
  ArrayRef<int64_t> pads = getPads();
  if (dy.getRank() != rank || int64_t(pads.size()) != 2 * rank)
    return emitOpError("needs dx and dy of one rank and 2 * rank pads");
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = dx.getDimSize(d), before = pads[d], after = pads[rank + d];
    int64_t size;
    if (llvm::AddOverflow(dim, before, size) ||
        llvm::AddOverflow(size, after, size) || size != dy.getDimSize(d))
      return emitOpError("padding dimension ")
             << d << " of size " << dim << " by " << before << " and " << after
             << " does not give dy's size " << dy.getDimSize(d);
    if (getMode() == PadMode::reflect && (before >= dim || after >= dim) &&
        (before > 0 || after > 0))
      return emitOpError("reflect padding of dimension ")
             << d << " must be smaller than its size " << dim;
    if (getMode() == PadMode::edge && dim == 0 && (before > 0 || after > 0))
      return emitOpError("edge padding of the empty dimension ") << d;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ExpandOp and TileOp
//===----------------------------------------------------------------------===//

void ExpandOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult ExpandOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(
      {sumToShape(b, getLoc(), resultGrads[0], getInput().getType())});
  return success();
}

// Result dimension d of size r * n is, row-major, the pair (repeat, index):
// dy viewed as [r0, n0, r1, n1, ...] summed over the repeats.
void TileOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult TileOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  ArrayRef<int64_t> inShape = shapeOf(getInput());
  ArrayRef<int64_t> repeats = getRepeats();
  SmallVector<int64_t> pairs, axes;
  for (auto [d, r] : llvm::enumerate(repeats)) {
    if (r != 1)
      axes.push_back(int64_t(pairs.size()));
    pairs.append({r, inShape[d]});
  }
  Value dx = resultGrads[0];
  if (!axes.empty())
    dx = ReduceSumOp::create(b, loc, reshapeTo(b, loc, dx, pairs),
                             b.getDenseI64ArrayAttr(axes), b.getBoolAttr(true));
  operandGrads.assign({reshapeTo(b, loc, dx, inShape)});
  return success();
}

//===----------------------------------------------------------------------===//
// GatherOp
//===----------------------------------------------------------------------===//

void GatherOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getIndices());
}

LogicalResult GatherOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign(2, nullptr);
  if (isDifferentiableType(getData().getType()))
    operandGrads[0] =
        GatherBackwardOp::create(b, getLoc(), getData().getType(),
                                 resultGrads[0], getIndices(), getAxisAttr());
  return success();
}

LogicalResult GatherBackwardOp::verify() {
  auto dx = getDx().getType(), dy = getDy().getType();
  if (dx.getElementType() != dy.getElementType())
    return emitOpError("dx and dy must have one element type");
  int64_t axis = getAxis();
  if (axis < 0 || axis >= dx.getRank())
    return emitOpError("axis ")
           << axis << " is out of range for rank " << dx.getRank();
  SmallVector<int64_t> shape(dx.getShape().take_front(axis));
  llvm::append_range(shape, getIndices().getType().getShape());
  llvm::append_range(shape, dx.getShape().drop_front(axis + 1));
  if (ArrayRef<int64_t>(shape) != dy.getShape())
    return emitOpError("dy has shape [")
           << dy.getShape() << "], gathering [" << dx.getShape()
           << "] with these indices gives [" << ArrayRef<int64_t>(shape) << "]";
  return success();
}
