//===- UnrollLstm.h - the LSTM's training form ------------------*- C++ -*-===//

#ifndef MLG_PASSES_TRANSFORMS_UNROLLLSTM_H
#define MLG_PASSES_TRANSFORMS_UNROLLLSTM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlg {

/// Replaces every mlg.lstm in `func` by one mlg.lstm_cell per time step and
/// direction (-mlg-unroll-lstm). Over more than one step the input is
/// projected in products over `projectionSteps` steps each (0: one product
/// for the whole sequence; -1: about its square root). Fails with a diagnostic on an option or LSTM it
/// cannot take.
mlir::LogicalResult unrollLstmForTraining(mlir::func::FuncOp func,
                                          int64_t projectionSteps = 0);

} // namespace mlg

#endif // MLG_PASSES_TRANSFORMS_UNROLLLSTM_H
