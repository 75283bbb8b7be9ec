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
//===----------------------------------------------------------------------===//

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
  }
};

} // namespace
