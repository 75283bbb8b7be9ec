//===- UnrollLstm.h - the LSTM's training form ------------------*- C++ -*-===//

#ifndef MLG_PASSES_TRANSFORMS_UNROLLLSTM_H
#define MLG_PASSES_TRANSFORMS_UNROLLLSTM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlg {

/// Replaces every mlg.lstm in `func` by one mlg.lstm_cell per time step and
/// direction (-mlg-unroll-lstm). Fails with a diagnostic on an LSTM it
/// cannot unroll.
mlir::LogicalResult unrollLstmForTraining(mlir::func::FuncOp func);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_UNROLLLSTM_H
