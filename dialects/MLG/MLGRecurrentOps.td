//===- MLGRecurrentOps.td - the LSTM's training form -------*- tablegen -*-===//
//
// For training, each mlg.lstm is unrolled into one cell op per time step and
// direction (so later passes can checkpoint at time-step granularity, as the
// BPTT memory algorithms need), and each cell has an explicit backward op.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGRECURRENTOPS_TD
#define MLG_DIALECT_MLG_MLGRECURRENTOPS_TD

include "MLGBase.td"

#endif // MLG_DIALECT_MLG_MLGRECURRENTOPS_TD
