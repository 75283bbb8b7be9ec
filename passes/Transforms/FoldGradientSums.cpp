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

/// A stack of consecutive dz's of `chain` that the input projection's
/// gradient made (the gradient of the unstack that cut a projection into
/// steps), starting at `dzs[i]`: its operands are `dzs[i, i + m)`, or, at
/// the chain's start (i == 0), the dz of the step before the chain (which
/// has no dR: its h_prev, or zeros, multiplies it) and then
/// `dzs[0, m - 1)`. Returns the stack and how many operands precede
/// `dzs[i]` in it (0 or 1).
std::pair<StackOp, int64_t> projectionStack(ArrayRef<Value> dzs, size_t i) {
  for (Operation *user : dzs[i].getUsers()) {
    auto stack = dyn_cast<StackOp>(user);
    if (!stack)
      continue;
    OperandRange ops = stack->getOperands();
    int64_t lead = ops.front() == dzs[i] ? 0 : 1;
    if (lead == 1 && (i != 0 || ops.size() < 2 || ops[1] != dzs[0]))
      continue;
    if (i + ops.size() - lead > dzs.size())
      continue;
    bool same = true;
    for (size_t j = lead; j < ops.size() && same; ++j)
      same = ops[j] == dzs[i + j - lead];
    if (same)
      return {stack, lead};
  }
  return {};
}

/// Replaces the accumulate_r chain ending at `last` (at least two projected
/// cells) by products over the stacked dz's and h_prev's: one per stack the
/// projections' gradients made (with the step before the chain's h_prev, or
/// zeros, in front where that stack starts one step early), one over the
/// dz's no such stack holds, summed. Returns whether it did.
bool batchRecurrentGradient(LSTMCellBackwardOp last) {
  SmallVector<LSTMCellBackwardOp> chain = {last};
  while (LSTMCellBackwardOp prev = projectedSource(chain.back().getDRAcc(),
                                                   chain.back()))
    chain.push_back(prev);
  if (chain.size() < 2)
    return false;
  // chain: last first, so dzs[i] is the dz one step after dzs[i - 1]'s.
  SmallVector<Value> dzs, hs;
  for (LSTMCellBackwardOp op : chain) {
    dzs.push_back(op.getDx());
    hs.push_back(op.getHPrev());
  }
  auto dzType = cast<RankedTensorType>(dzs[0].getType());
  auto hType = cast<RankedTensorType>(hs[0].getType());
  int64_t n = dzType.getDimSize(0), g = dzType.getDimSize(1),
          h = hType.getDimSize(1);
  Location loc = last.getLoc();
  OpBuilder b(last->getContext());
  // The product of a stack of dz's by the h_prev's beside them, after
  // `after` (which comes after every h_prev).
  auto product = [&](Operation *after, Value dz, ArrayRef<Value> hps) {
    b.setInsertionPointAfter(after);
    int64_t k = int64_t(hps.size());
    Value hp = StackOp::create(b, loc, hType.clone({k, n, h}), hps);
    return GemmOp::create(b, loc, reshapeTo(b, loc, dz, {k * n, g}),
                          reshapeTo(b, loc, hp, {k * n, h}), Value(),
                          b.getF64FloatAttr(1.0), b.getF64FloatAttr(0.0),
                          b.getBoolAttr(true), b.getBoolAttr(false),
                          b.getUnitAttr())
        .getResult();
  };
  // One product right after each projection stack (so that its dz's can go
  // once its products are done); the dz's no such stack holds go into one
  // stack after the chain's end.
  SmallVector<Value> products, restDz, restH;
  for (size_t i = 0; i < dzs.size();) {
    auto [stack, lead] = projectionStack(dzs, i);
    if (!stack) {
      restDz.push_back(dzs[i]);
      restH.push_back(hs[i]);
      ++i;
      continue;
    }
    SmallVector<Value> hps;
    Operation *after = stack;
    if (lead) {
      auto first = stack->getOperand(0).getDefiningOp<LSTMCellBackwardOp>();
      Value h0 = first ? first.getHPrev() : Value();
      if (!h0) {
        b.setInsertionPointAfter(stack);
        h0 = ConstantOp::create(
            b, loc,
            DenseElementsAttr::get(hType,
                                   b.getZeroAttr(hType.getElementType())));
        after = h0.getDefiningOp();
      }
      hps.push_back(h0);
    }
    size_t count = stack->getNumOperands() - lead;
    hps.append(hs.begin() + i, hs.begin() + i + count);
    products.push_back(product(after, stack, hps));
    i += count;
  }
  if (!restDz.empty()) {
    b.setInsertionPointAfter(last);
    Value dz = StackOp::create(
        b, loc, dzType.clone({int64_t(restDz.size()), n, g}), restDz);
    products.push_back(product(dz.getDefiningOp(), dz, restH));
  }
  // Summed in program order, each add after its product.
  llvm::sort(products, [](Value x, Value y) {
    return x.getDefiningOp()->isBeforeInBlock(y.getDefiningOp());
  });
  Value dR = chain.back().getDRAcc();
  for (Value p : products) {
    if (!dR) {
      dR = p;
      continue;
    }
    b.setInsertionPointAfter(p.getDefiningOp());
    dR = AddOp::create(b, loc, p, dR);
  }
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
