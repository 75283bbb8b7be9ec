//===- FoldGradientSums.cpp - accumulate LSTM weight gradients in place ---===//
//
// Implements -mlg-fold-gradient-sums. The training step sums a weight's
// gradient over the LSTM's time steps as a chain of adds:
//
//   %dw3, ... = mlg.lstm_cell_backward ...        (step 3)
//   %s3 = mlg.add %s4, %dw3
//   %dw2, ... = mlg.lstm_cell_backward ...        (step 2)
//   %s2 = mlg.add %s3, %dw2
//
// Each add reads two weight-sized tensors and writes a third, after the
// backward's product wrote one. Folded, the product accumulates into the
// running sum, which the memory plan lets it overwrite:
//
//   %s3, ... = mlg.lstm_cell_backward ... accumulate_w %s4
//   %s2, ... = mlg.lstm_cell_backward ... accumulate_w %s3
//
// Then the recurrent weight's gradient of projected cells (whose input
// weights' gradient is one product over the sequence already) becomes one
// product too: a chain of accumulate_r over K steps, each adding
// dz_t^T h_prev_t (a [4H, N] by [N, H] product), is the stacked dz's by the
// stacked h_prev's,
//
//   %dz = mlg.stack %dx_K, ..., %dx_1       // [K, N, 4H]
//   %hp = mlg.stack %h_K-1, ..., %h_0       // [K, N, H]
//   %dR = mlg.gemm %dz', %hp' {recurrent, trans_a = true}   // [4H, H]
//
// (plus whatever the chain started from), and the cells give no dR. Where
// the input projection's gradient stacks every step's dz already, %dz is
// that stack and %hp has the first step's h_prev (zeros) in front.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlg {
#define GEN_PASS_DEF_FOLDGRADIENTSUMS
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

namespace {

/// The add that is `result`'s only reader and the add's other operand, if
/// that operand is available before `op` (so it can become an operand of
/// `op`) and has `result`'s type.
std::pair<AddOp, Value> soleSum(Operation *op, Value result) {
  if (!result || !result.hasOneUse())
    return {};
  auto add = dyn_cast<AddOp>(*result.user_begin());
  if (!add || add->getBlock() != op->getBlock() ||
      add.getType() != result.getType())
    return {};
  Value other = add.getLhs() == result ? add.getRhs() : add.getLhs();
  if (other == result || other.getType() != result.getType())
    return {};
  Operation *def = other.getDefiningOp();
  bool before = def ? def->getBlock() == op->getBlock() &&
                          def->isBeforeInBlock(op)
                    : cast<BlockArgument>(other).getOwner() == op->getBlock();
  if (!before)
    return {};
  return {add, other};
}

/// The projected backward op whose dR `acc` is, on the same R as `op`.
LSTMCellBackwardOp projectedSource(Value acc, LSTMCellBackwardOp op) {
  auto prev = acc ? acc.getDefiningOp<LSTMCellBackwardOp>() : nullptr;
  if (!prev || !prev.getProjected() || prev.getDR() != acc ||
      prev.getR() != op.getR() || !acc.hasOneUse())
    return nullptr;
  return prev;
}

/// Replaces the accumulate_r chain ending at `last` (at least two projected
/// cells) by one product over the stacked dz's and h_prev's. Returns
/// whether it did.
bool batchRecurrentGradient(LSTMCellBackwardOp last) {
  SmallVector<LSTMCellBackwardOp> chain = {last};
  while (LSTMCellBackwardOp prev = projectedSource(chain.back().getDRAcc(),
                                                   chain.back()))
    chain.push_back(prev);
  if (chain.size() < 2)
    return false;
  // chain: last first. The product comes after the last; the stacks read
  // values all defined by then.
  OpBuilder b(last->getContext());
  b.setInsertionPointAfter(last);
  Location loc = last.getLoc();
  SmallVector<Value> dzs, hs;
  for (LSTMCellBackwardOp op : chain) {
    dzs.push_back(op.getDx());
    hs.push_back(op.getHPrev());
  }
  auto dzType = cast<RankedTensorType>(dzs[0].getType());
  auto hType = cast<RankedTensorType>(hs[0].getType());
  int64_t k = int64_t(chain.size()), n = dzType.getDimSize(0),
          g = dzType.getDimSize(1), h = hType.getDimSize(1);
  // The input projection's gradient already stacks every step's dz (the
  // gradient of the unstack that cut the projection into steps): reuse it,
  // with the first step's h_prev (zeros without an initial state) first,
  // whose dz then multiplies nothing, instead of a second stack of all
  // but one of the same dz's.
  Value dz, hp;
  for (Operation *user : dzs[0].getUsers()) {
    auto all = dyn_cast<StackOp>(user);
    if (!all || all->getNumOperands() != unsigned(k + 1) ||
        all.getType() != dzType.clone({k + 1, n, g}))
      continue;
    bool same = true;
    for (int64_t i = 0; i < k && same; ++i)
      same = all->getOperand(i + 1) == dzs[i];
    if (!same)
      continue;
    auto first = all->getOperand(0).getDefiningOp<LSTMCellBackwardOp>();
    b.setInsertionPointAfter(all);
    Value h0 = first ? first.getHPrev() : Value();
    if (!h0)
      h0 = ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(hType, b.getZeroAttr(hType.getElementType())));
    SmallVector<Value> withFirst{h0};
    withFirst.append(hs.begin(), hs.end());
    dz = all;
    hp = StackOp::create(b, loc, hType.clone({k + 1, n, h}), withFirst);
    k += 1;
    break;
  }
  if (!dz) {
    dz = StackOp::create(b, loc, dzType.clone({k, n, g}), dzs);
    hp = StackOp::create(b, loc, hType.clone({k, n, h}), hs);
  }
  Value dR = GemmOp::create(b, loc, reshapeTo(b, loc, dz, {k * n, g}),
                            reshapeTo(b, loc, hp, {k * n, h}), Value(),
                            b.getF64FloatAttr(1.0), b.getF64FloatAttr(0.0),
                            b.getBoolAttr(true), b.getBoolAttr(false),
                            b.getUnitAttr());
  if (Value start = chain.back().getDRAcc())
    dR = AddOp::create(b, loc, dR, start);
  last.getDR().replaceAllUsesWith(dR);
  // Each cell again without dR or its accumulator.
  for (LSTMCellBackwardOp op : chain) {
    OpBuilder at(op);
    SmallVector<Type> types;
    for (Value r : op->getResults())
      if (r != op.getDR())
        types.push_back(r.getType());
    auto segments = llvm::to_vector(
        op->getAttrOfType<DenseI32ArrayAttr>("resultSegmentSizes")
            .asArrayRef());
    segments[4] = 0; // dR
    auto without = LSTMCellBackwardOp::create(
        at, op.getLoc(), types, op.getDh(), op.getDc(), op.getX(),
        op.getHPrev(), op.getCPrev(), op.getC(), op.getGates(), op.getW(),
        op.getR(), op.getP(), op.getDWAcc(), Value(), op.getDBAcc(),
        op.getClipAttr(), op.getInputForgetAttr(), op.getProjectedAttr());
    without->setAttr("resultSegmentSizes", at.getDenseI32ArrayAttr(segments));
    unsigned next = 0;
    for (Value r : op->getResults())
      if (r != op.getDR())
        r.replaceAllUsesWith(without->getResult(next++));
  }
  // Erase from the first in program order (the chain's end) so that each
  // dR, read only by the next cell's accumulate_r, has no reader left.
  for (LSTMCellBackwardOp op : chain)
    op.getDR().dropAllUses();
  for (LSTMCellBackwardOp op : chain)
    op.erase();
  return true;
}

struct FoldGradientSumsPass
    : mlg::impl::FoldGradientSumsBase<FoldGradientSumsPass> {
  void runOnOperation() override {
    SmallVector<LSTMCellBackwardOp> cells;
    getOperation().walk([&](LSTMCellBackwardOp op) { cells.push_back(op); });
    for (LSTMCellBackwardOp op : cells) {
      auto [addW, accW] = op.getDWAcc() ? std::pair<AddOp, Value>()
                                        : soleSum(op, op.getDW());
      auto [addR, accR] = op.getDRAcc() ? std::pair<AddOp, Value>()
                                        : soleSum(op, op.getDR());
      auto [addB, accB] = op.getDBAcc() ? std::pair<AddOp, Value>()
                                        : soleSum(op, op.getDB());
      if (!addW && !addR && !addB)
        continue;
      OpBuilder b(op);
      auto folded = LSTMCellBackwardOp::create(
          b, op.getLoc(), op->getResultTypes(), op.getDh(), op.getDc(),
          op.getX(), op.getHPrev(), op.getCPrev(), op.getC(), op.getGates(),
          op.getW(), op.getR(), op.getP(), accW ? accW : op.getDWAcc(),
          accR ? accR : op.getDRAcc(), accB ? accB : op.getDBAcc(),
          op.getClipAttr(), op.getInputForgetAttr(), op.getProjectedAttr());
      folded->setAttr("resultSegmentSizes",
                      op->getAttr("resultSegmentSizes"));
      for (auto [add, result] : {std::pair{addW, folded.getDW()},
                                 std::pair{addR, folded.getDR()},
                                 std::pair{addB, folded.getDB()}})
        if (add) {
          add.getResult().replaceAllUsesWith(result);
          add.erase();
          ++numFolded;
        }
      // The folded results' only readers were the adds, now gone.
      op->replaceAllUsesWith(folded->getResults());
      op.erase();
    }
    // Chains of projected cells' recurrent gradients, each found from its
    // end: the cell whose dR no other projected cell accumulates into.
    SmallVector<LSTMCellBackwardOp> ends;
    getOperation().walk([&](LSTMCellBackwardOp op) {
      if (!op.getProjected() || !op.getDR() || !op.getDRAcc())
        return;
      bool accumulated = llvm::any_of(op.getDR().getUsers(), [&](Operation *u) {
        auto next = dyn_cast<LSTMCellBackwardOp>(u);
        return next && next.getDRAcc() == op.getDR() &&
               projectedSource(op.getDR(), next);
      });
      if (!accumulated)
        ends.push_back(op);
    });
    for (LSTMCellBackwardOp end : ends)
      numBatched += batchRecurrentGradient(end);
  }
};

} // namespace
