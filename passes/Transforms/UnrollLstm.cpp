//===- UnrollLstm.cpp - one cell op per LSTM time step --------------------===//
//
// Implements -mlg-unroll-lstm (and unrollLstmForTraining, which
// -mlg-build-training-step calls first). Each mlg.lstm becomes, per
// direction, a chain of mlg.lstm_cell ops, one per time step, so that the
// backward is per step and later passes can keep or recompute single steps.
// A forward LSTM over three steps
//
//   %y, %yh, %yc = mlg.lstm %x, %w, %r bias %b initial_h %h0 initial_c %c0
//       {direction = #mlg<direction forward>, ...}
//
// becomes
//
//   %x0, %x1, %x2 = mlg.unstack %x           // [3, N, I] -> 3 x [N, I]
//   %w0 = mlg.reshape %w                     // [1, 4H, I] -> [4H, I]
//   ...                                      // R, B, h0 and c0 likewise
//   %h1, %c1, %g1 = mlg.lstm_cell %x0 h_prev %h00 c_prev %c00 weights ...
//   %h2, %c2, %g2 = mlg.lstm_cell %x1 h_prev %h1 c_prev %c1 weights ...
//   %h3, %c3, %g3 = mlg.lstm_cell %x2 h_prev %h2 c_prev %c2 weights ...
//   %y = mlg.stack %h1, %h2, %h3             // 3 x [N, H] -> [3, 1, N, H]
//   %yh = mlg.reshape %h3                    // [N, H] -> [1, N, H]
//   %yc = mlg.reshape %c3
//
// Over more than one step, each direction first projects the whole input
// sequence in one product (the cells' input products batched: far better
// use of a GPU than one small product a step), and its cells take their
// step's rows of it (`projected`):
//
//   %xf = mlg.reshape %x                     // [3, N, I] -> [3N, I]
//   %xw = mlg.gemm %xf, %w0 {recurrent, trans_b = true, ...}  // [3N, 4H]
//   %p0, %p1, %p2 = mlg.unstack %xw3         // its [3, N, 4H] view, cut
//   %h1, %c1, %g1 = mlg.lstm_cell %p0 ... {projected}
//
// so the backward, too, gets W's gradient and x's from one product each
// over the sequence. With `projection-steps=S` the sequence is first split
// into blocks of S steps (the last may be shorter), each projected by its
// own product: a recomputing plan then recomputes one block's projection
// at a time, and the backward holds one block's gate gradients instead of
// the whole sequence's. A reverse direction walks the steps from the last; a
// bidirectional LSTM unstacks its weights into the two directions and
// stacks Y time-major, then by direction. An initial state that is absent or a zero splat constant
// (what exporters write for "no initial state") gives a first cell without
// h_prev or c_prev, which skips the recurrent product and reads no zeros.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/UnrollLstm.h"
#include "mlg/Passes/Passes.h"

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

#define DEBUG_TYPE "mlg-unroll-lstm"

namespace mlg {
#define GEN_PASS_DEF_UNROLLLSTM
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

namespace {

/// `v` [K, ...] cut into its K pieces (K >= 1): a view for one.
SmallVector<Value> unstack(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  ArrayRef<int64_t> piece = type.getShape().drop_front();
  if (type.getDimSize(0) == 1)
    return {reshapeTo(b, loc, v, piece)};
  auto pieceType = RankedTensorType::get(piece, type.getElementType());
  auto op = UnstackOp::create(
      b, loc, SmallVector<Type>(type.getDimSize(0), pieceType), v);
  return SmallVector<Value>(op.getResults());
}

/// `pieces` (at least one) stacked into `type`: a view for one.
Value stack(OpBuilder &b, Location loc, ArrayRef<Value> pieces,
            RankedTensorType type) {
  if (pieces.size() == 1)
    return reshapeTo(b, loc, pieces.front(), type.getShape());
  return StackOp::create(b, loc, type, pieces);
}

/// A splat zero of `type` (no stored data).
Value zeros(OpBuilder &b, Location loc, RankedTensorType type) {
  return ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(type, b.getFloatAttr(type.getElementType(), 0)));
}

/// `state` unless it is a zero splat constant.
Value nonZero(Value state) {
  if (state && matchPattern(state, m_AnyZeroFloat()))
    return nullptr;
  return state;
}

/// `x` [T, N, I] as blocks of `steps` time steps, each flattened to
/// [S * N, I] (the last block may be shorter), with its number of steps:
/// one block when `steps` is 0 or covers the sequence; -1 is about the
/// square root of the sequence length (Chen et al.'s segment for one
/// level of recomputation).
SmallVector<std::pair<Value, int64_t>>
projectionBlocks(OpBuilder &b, Location loc, Value x, int64_t steps) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t total = type.getDimSize(0), batch = type.getDimSize(1),
          input = type.getDimSize(2);
  if (steps < 0)
    steps = int64_t(std::ceil(std::sqrt(double(total))));
  if (steps == 0 || steps >= total)
    return {{reshapeTo(b, loc, x, {total * batch, input}), total}};
  SmallVector<int64_t> sizes;
  for (int64_t t = 0; t < total; t += steps)
    sizes.push_back(std::min(steps, total - t));
  SmallVector<Type> types;
  for (int64_t size : sizes)
    types.push_back(type.clone({size, batch, input}));
  auto split = SplitOp::create(b, loc, types, x, b.getI64IntegerAttr(0),
                               b.getDenseI64ArrayAttr(sizes));
  SmallVector<std::pair<Value, int64_t>> blocks;
  for (auto [block, size] : llvm::zip_equal(split.getResults(), sizes))
    blocks.push_back({reshapeTo(b, loc, block, {size * batch, input}), size});
  return blocks;
}

void unroll(LSTMOp lstm, int64_t projectionSteps) {
  OpBuilder b(lstm);
  Location loc = lstm.getLoc();
  RankedTensorType yType = lstm.getY().getType(),
                   stateType = lstm.getYH().getType();
  int64_t steps = yType.getDimSize(0), dirs = yType.getDimSize(1);
  bool reverse = lstm.getDirection() == RnnDirection::reverse;
  Value h0 = nonZero(lstm.getInitialH()), c0 = nonZero(lstm.getInitialC());

  Value y, yh, yc;
  if (steps == 0) {
    // No step: the final states are the initial ones.
    y = zeros(b, loc, yType);
    yh = h0 ? h0 : zeros(b, loc, stateType);
    yc = c0 ? c0 : zeros(b, loc, stateType);
  } else {
    auto perDirection = [&](Value v) {
      return v ? unstack(b, loc, v) : SmallVector<Value>(dirs, Value());
    };
    auto xType = cast<RankedTensorType>(lstm.getX().getType());
    int64_t batch = xType.getDimSize(1);
    // One step keeps the plain cell: there is nothing to batch.
    bool projected = steps > 1;
    SmallVector<Value> xs;
    SmallVector<std::pair<Value, int64_t>> xBlocks;
    if (projected)
      xBlocks = projectionBlocks(b, loc, lstm.getX(), projectionSteps);
    else
      xs = unstack(b, loc, lstm.getX());
    // The block of each step and the first step of each block.
    SmallVector<int64_t> blockOf, firstOf;
    for (auto [k, block] : llvm::enumerate(xBlocks)) {
      firstOf.push_back(int64_t(blockOf.size()));
      blockOf.append(block.second, int64_t(k));
    }
    SmallVector<Value> ws = perDirection(lstm.getW()),
                       rs = perDirection(lstm.getR()),
                       bs = perDirection(lstm.getB()),
                       ps = perDirection(lstm.getP()),
                       h0s = perDirection(h0), c0s = perDirection(c0);
    SmallVector<Value> hs(steps * dirs), lastH(dirs), lastC(dirs);
    for (int64_t d = 0; d < dirs; ++d) {
      Value h = h0s[d], c = c0s[d];
      // Each block is projected just before its first cell, so that the
      // backward, in reverse, takes the block's projection gradients
      // right after its cells' (and holds one block's gate gradients).
      auto project = [&](int64_t t) {
        int64_t gates = cast<RankedTensorType>(ws[d].getType()).getDimSize(0);
        auto [block, blockSteps] = xBlocks[blockOf[t]];
        Value xw = GemmOp::create(b, loc, block, ws[d], Value(),
                                  b.getF64FloatAttr(1.0), b.getF64FloatAttr(0.0),
                                  b.getBoolAttr(false), b.getBoolAttr(true),
                                  b.getUnitAttr());
        SmallVector<Value> pieces{xw};
        if (blockSteps > 1)
          pieces = unstack(b, loc,
                           reshapeTo(b, loc, xw, {blockSteps, batch, gates}));
        llvm::copy(pieces, xs.begin() + firstOf[blockOf[t]]);
      };
      if (projected)
        xs.assign(steps, Value());
      for (int64_t s = 0; s < steps; ++s) {
        int64_t t = reverse || d == 1 ? steps - 1 - s : s;
        if (projected && !xs[t])
          project(t);
        auto cell = LSTMCellOp::create(
            b, loc, xs[t], h, c, ws[d], rs[d], bs[d], ps[d],
            lstm.getClipAttr(), lstm.getInputForgetAttr(),
            projected ? b.getUnitAttr() : UnitAttr());
        h = cell.getH();
        c = cell.getC();
        hs[t * dirs + d] = h;
      }
      lastH[d] = h;
      lastC[d] = c;
    }
    // Only what is read: Y_c, for one, usually is not.
    if (!lstm.getY().use_empty())
      y = stack(b, loc, hs, yType);
    if (!lstm.getYH().use_empty())
      yh = stack(b, loc, lastH, stateType);
    if (!lstm.getYC().use_empty())
      yc = stack(b, loc, lastC, stateType);
  }
  Value replacements[] = {y, yh, yc};
  for (auto [from, to] : llvm::zip_equal(lstm.getResults(), replacements))
    if (to)
      from.replaceAllUsesWith(to);
  // A zero initial state the cells no longer read would still be expanded
  // to its full size when a session starts.
  SmallVector<Operation *> zeroStates;
  for (Value state : {lstm.getInitialH(), lstm.getInitialC()})
    if (state && state.getDefiningOp<ConstantOp>() &&
        !llvm::is_contained(zeroStates, state.getDefiningOp()))
      zeroStates.push_back(state.getDefiningOp());
  lstm.erase();
  for (Operation *op : zeroStates)
    if (op->use_empty())
      op->erase();
}

} // namespace

LogicalResult mlg::unrollLstmForTraining(func::FuncOp func,
                                         int64_t projectionSteps) {
  if (projectionSteps < -1)
    return emitError(func.getLoc(), "projection-steps=")
           << projectionSteps
           << ": must be 0 (the whole sequence), -1 (about the square root "
              "of the sequence length) or more";
  SmallVector<LSTMOp> lstms;
  func.walk([&](LSTMOp lstm) { lstms.push_back(lstm); });
  for (LSTMOp lstm : lstms)
    unroll(lstm, projectionSteps);
  return success();
}

namespace {
struct UnrollLstmPass : mlg::impl::UnrollLstmBase<UnrollLstmPass> {
  using UnrollLstmBase::UnrollLstmBase;
  void runOnOperation() override {
    if (failed(unrollLstmForTraining(getOperation(), projectionSteps)))
      signalPassFailure();
  }
};
} // namespace
