//===- DeadNodeElim.cpp - Echo's dead-node elimination --------------------===//
//
// Implements -mlg-dead-node-elim. One reverse walk over the schedule erases
// every op whose results nothing reads and that has no effect beyond
// reading memory; erasing it may make its operands' producers dead, and the
// reverse order reaches them next. Example:
//
//   %dx = mlg.conv_backward_data %dy, %w    (gradient of the input: unread)
//   %dw = mlg.conv_backward_filter %dy, %x
//   mlg.sgd_update @w, %dw                   (an effect: kept)
//
// loses the first op.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlg {
#define GEN_PASS_DEF_DEADNODEELIM
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;

namespace {
struct DeadNodeElimPass : mlg::impl::DeadNodeElimBase<DeadNodeElimPass> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      for (Operation &op : llvm::make_early_inc_range(llvm::reverse(block))) {
        if (!op.use_empty() || op.hasTrait<OpTrait::IsTerminator>() ||
            !wouldOpBeTriviallyDead(&op))
          continue;
        op.erase();
        ++numErased;
      }
    }
  }
};
} // namespace
