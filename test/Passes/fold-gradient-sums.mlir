// RUN: mlg-opt %s --split-input-file --mlg-fold-gradient-sums | FileCheck %s
// RUN: mlg-opt %s --split-input-file --mlg-fold-gradient-sums --mlg-plan-memory | FileCheck %s --check-prefix=PLAN

// Two steps of a cell's backward: the sums of dW and dB over the steps
// become the second backward's accumulators; dR, read by one step only, is
// no sum. The memory plan writes each sum over its accumulator.
// CHECK-LABEL: func.func @two_steps
// CHECK:      %[[DX:.*]], %[[DH:.*]], %[[DC:.*]], %[[DW:.*]], %[[DR:.*]], %[[DB:.*]] = mlg.lstm_cell_backward dh %arg0 x
// CHECK-NOT:  accumulate
// CHECK-SAME: resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>
// CHECK:      %{{.*}}, %[[SW:.*]], %[[SB:.*]] = mlg.lstm_cell_backward dh %[[DH]] dc %[[DC]] {{.*}} accumulate_w %[[DW]] accumulate_b %[[DB]] {{.*}}resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 1, 0>
// CHECK-NOT:  mlg.add
// CHECK:      return %[[SW]], %[[DR]], %[[SB]]
// PLAN-LABEL: func.func @two_steps
// PLAN:       mlg.lstm_cell_backward {{.*}}mlg.offsets = array<i64: {{[0-9]+}}, {{[0-9]+}}, {{[0-9]+}}, [[W:[0-9]+]], {{[0-9]+}}, [[B:[0-9]+]]>
// PLAN:       mlg.lstm_cell_backward {{.*}}accumulate_w {{.*}}mlg.offsets = array<i64: {{[0-9]+}}, [[W]], [[B]]>
func.func @two_steps(%dh2: tensor<2x2xf32>, %x1: tensor<2x4xf32>, %x2: tensor<2x4xf32>, %h1: tensor<2x2xf32>, %c1: tensor<2x2xf32>, %c2: tensor<2x2xf32>, %g1: tensor<2x8xf32>, %g2: tensor<2x8xf32>, %w: tensor<8x4xf32>, %r: tensor<8x2xf32>) -> (tensor<8x4xf32>, tensor<8x2xf32>, tensor<16xf32>) {
  %a:6 = mlg.lstm_cell_backward dh %dh2 x %x2 h_prev %h1 c_prev %c1 c %c2 gates %g2 weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>} : (tensor<2x2xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x4xf32>, tensor<8x2xf32>, tensor<16xf32>)
  %b:3 = mlg.lstm_cell_backward dh %a#1 dc %a#2 x %x1 c %c1 gates %g1 weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x4xf32>, tensor<8x4xf32>, tensor<16xf32>)
  %sw = mlg.add %a#3, %b#1 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %sb = mlg.add %a#5, %b#2 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %sw, %a#4, %sb : tensor<8x4xf32>, tensor<8x2xf32>, tensor<16xf32>
}

// -----

// Not folded: a dW something else reads too, and a sum whose other operand
// comes after the backward (it cannot be the backward's operand).
// CHECK-LABEL: func.func @kept
// CHECK-NOT:  accumulate
// CHECK:      mlg.add
// CHECK:      mlg.add
func.func @kept(%dh: tensor<2x2xf32>, %x: tensor<2x4xf32>, %c: tensor<2x2xf32>, %g: tensor<2x8xf32>, %w: tensor<8x4xf32>, %r: tensor<8x2xf32>, %s: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>, tensor<16xf32>) {
  %a:3 = mlg.lstm_cell_backward dh %dh x %x c %c gates %g weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 1, 0>} : (tensor<2x2xf32>, tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x4xf32>, tensor<8x4xf32>, tensor<16xf32>)
  %sw = mlg.add %s, %a#1 : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %later = mlg.add %a#2, %a#2 : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xf32>
  return %sw, %a#1, %later : tensor<8x4xf32>, tensor<8x4xf32>, tensor<16xf32>
}
