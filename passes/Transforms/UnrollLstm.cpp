//===- UnrollLstm.cpp - one cell op per LSTM time step --------------------===//
//
// Implements -mlg-unroll-lstm (and unrollLstmForTraining, which
// -mlg-build-training-step calls first).
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Transforms/UnrollLstm.h"
#include "mlg/Passes/Passes.h"

#include "mlg/Dialect/MLG/MLGOps.h"

namespace mlg {
#define GEN_PASS_DEF_UNROLLLSTM
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

LogicalResult mlg::unrollLstmForTraining(func::FuncOp func) {
  WalkResult result = func.walk([](LSTMOp lstm) {
    lstm.emitError("training through an LSTM is not supported yet");
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

namespace {
struct UnrollLstmPass : mlg::impl::UnrollLstmBase<UnrollLstmPass> {
  void runOnOperation() override {
    if (failed(unrollLstmForTraining(getOperation())))
      signalPassFailure();
  }
};
} // namespace
