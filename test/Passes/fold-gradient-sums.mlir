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

// -----

// Projected cells (their input already multiplied by W for the sequence):
// R's gradient, summed over the steps, becomes one product of the stacked
// dx's (the pre-activation gradients) by the stacked h_prev's, paired step
// by step; the cells give no dR.
// CHECK-LABEL: func.func @projected_chain
// CHECK:      %[[DX3:[a-z0-9_]+]], %[[DH:[a-z0-9_]+]], %[[DC:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %arg0 h_prev %arg2 {{.*}}resultSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>
// CHECK:      %[[DX2:[a-z0-9_]+]], %{{.*}}, %{{.*}} = mlg.lstm_cell_backward dh %[[DH]] dc %[[DC]] h_prev %arg1
// CHECK-NOT:  accumulate_r
// CHECK-SAME: resultSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>
// CHECK-DAG:  %[[DZ:.*]] = mlg.stack %[[DX2]], %[[DX3]] : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2x8xf32>
// CHECK-DAG:  %[[HP:.*]] = mlg.stack %arg1, %arg2 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2x2xf32>
// CHECK-DAG:  %[[DZF:.*]] = mlg.reshape %[[DZ]] : tensor<2x2x8xf32> to tensor<4x8xf32>
// CHECK-DAG:  %[[HPF:.*]] = mlg.reshape %[[HP]] : tensor<2x2x2xf32> to tensor<4x2xf32>
// CHECK:      %[[DR:.*]] = mlg.gemm %[[DZF]], %[[HPF]] {{{.*}}recurrent, trans_a = true, trans_b = false}
// CHECK-NOT:  mlg.add
// CHECK:      return %[[DR]], %[[DX3]], %[[DX2]]
func.func @projected_chain(%dh3: tensor<2x2xf32>, %h1: tensor<2x2xf32>, %h2: tensor<2x2xf32>, %c1: tensor<2x2xf32>, %c2: tensor<2x2xf32>, %c3: tensor<2x2xf32>, %g2: tensor<2x8xf32>, %g3: tensor<2x8xf32>, %w: tensor<8x4xf32>, %r: tensor<8x2xf32>) -> (tensor<8x2xf32>, tensor<2x8xf32>, tensor<2x8xf32>) {
  %a:4 = mlg.lstm_cell_backward dh %dh3 h_prev %h2 c_prev %c2 c %c3 gates %g3 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %b:4 = mlg.lstm_cell_backward dh %a#1 dc %a#2 h_prev %h1 c_prev %c1 c %c2 gates %g2 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %s = mlg.add %a#3, %b#3 : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x2xf32>
  return %s, %a#0, %b#0 : tensor<8x2xf32>, tensor<2x8xf32>, tensor<2x8xf32>
}

// -----

// When the input projection's gradient already stacks every step's dx (in
// time order, the first step's too), R's product reuses that stack: the
// h_prev's are stacked behind the first step's, which has none (zeros), so
// its dx multiplies nothing, and no second stack of dx's is made.
// CHECK-LABEL: func.func @projected_chain_shared_stack
// CHECK:      %[[DX2:[a-z0-9_]+]], %[[DH:[a-z0-9_]+]], %[[DC:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %arg0 h_prev %arg2
// CHECK:      %[[DX1:[a-z0-9_]+]], %[[DH1:[a-z0-9_]+]], %[[DC1:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %[[DH]] dc %[[DC]] h_prev %arg1
// CHECK:      %[[DX0:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %[[DH1]] dc %[[DC1]] c
// CHECK:      %[[ALL:.*]] = mlg.stack %[[DX0]], %[[DX1]], %[[DX2]] : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<3x2x8xf32>
// CHECK-NEXT: %[[ZERO:.*]] = mlg.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT: %[[HP:.*]] = mlg.stack %[[ZERO]], %arg1, %arg2 : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<3x2x2xf32>
// CHECK-DAG:  %[[DZF:.*]] = mlg.reshape %[[ALL]] : tensor<3x2x8xf32> to tensor<6x8xf32>
// CHECK-DAG:  %[[HPF:.*]] = mlg.reshape %[[HP]] : tensor<3x2x2xf32> to tensor<6x2xf32>
// CHECK:      %[[DR:.*]] = mlg.gemm %[[DZF]], %[[HPF]] {{{.*}}recurrent, trans_a = true, trans_b = false}
// CHECK-NOT:  mlg.stack
// CHECK:      return %[[DR]], %[[ALL]]
func.func @projected_chain_shared_stack(%dh2: tensor<2x2xf32>, %h0: tensor<2x2xf32>, %h1: tensor<2x2xf32>, %c0: tensor<2x2xf32>, %c1: tensor<2x2xf32>, %c2: tensor<2x2xf32>, %g0: tensor<2x8xf32>, %g1: tensor<2x8xf32>, %g2: tensor<2x8xf32>, %w: tensor<8x4xf32>, %r: tensor<8x2xf32>) -> (tensor<8x2xf32>, tensor<3x2x8xf32>) {
  %a:4 = mlg.lstm_cell_backward dh %dh2 h_prev %h1 c_prev %c1 c %c2 gates %g2 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %b:4 = mlg.lstm_cell_backward dh %a#1 dc %a#2 h_prev %h0 c_prev %c0 c %c1 gates %g1 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %s = mlg.add %a#3, %b#3 : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x2xf32>
  %d0 = mlg.lstm_cell_backward dh %b#1 dc %b#2 c %c0 gates %g0 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 0, 0, 0, 0, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  %all = mlg.stack %d0, %b#0, %a#0 : (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<3x2x8xf32>
  return %s, %all : tensor<8x2xf32>, tensor<3x2x8xf32>
}

// -----

// With the input projected in blocks (projection-steps=2 over 4 steps),
// each block's projection gradient stacks its own steps' dx's; R's
// gradient is one product per block stack, placed right after it (so that
// each block's dx's can go as soon as its products are done), the first
// block's with zeros for its first step's h_prev, and the products summed.
// CHECK-LABEL: func.func @projected_blocks
// CHECK:      %[[DX3:[a-z0-9_]+]], %[[DH3:[a-z0-9_]+]], %[[DC3:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %arg0 h_prev %arg3
// CHECK:      %[[DX2:[a-z0-9_]+]], %[[DH2:[a-z0-9_]+]], %[[DC2:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %[[DH3]] dc %[[DC3]] h_prev %arg2
// CHECK:      %[[BLK1:.*]] = mlg.stack %[[DX2]], %[[DX3]] : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2x8xf32>
// CHECK-NEXT: %[[HP1:.*]] = mlg.stack %arg2, %arg3 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2x2xf32>
// CHECK:      %[[DR1:.*]] = mlg.gemm {{.*}}recurrent, trans_a = true, trans_b = false} : (tensor<4x8xf32>, tensor<4x2xf32>) -> tensor<8x2xf32>
// CHECK:      %[[DX1:[a-z0-9_]+]], %[[DH1:[a-z0-9_]+]], %[[DC1:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %[[DH2]] dc %[[DC2]] h_prev %arg1
// CHECK:      %[[DX0:[a-z0-9_]+]] = mlg.lstm_cell_backward dh %[[DH1]] dc %[[DC1]] c
// CHECK:      %[[BLK0:.*]] = mlg.stack %[[DX0]], %[[DX1]] : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2x8xf32>
// CHECK-NEXT: %[[ZERO:.*]] = mlg.constant dense<0.000000e+00> : tensor<2x2xf32>
// CHECK-NEXT: %[[HP0:.*]] = mlg.stack %[[ZERO]], %arg1 : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2x2xf32>
// CHECK:      %[[DR0:.*]] = mlg.gemm {{.*}}recurrent, trans_a = true, trans_b = false} : (tensor<4x8xf32>, tensor<4x2xf32>) -> tensor<8x2xf32>
// CHECK-NEXT: %[[DR:.*]] = mlg.add %[[DR0]], %[[DR1]]
// CHECK-NOT:  mlg.stack
// CHECK:      return %[[DR]], %[[BLK1]], %[[BLK0]]
func.func @projected_blocks(%dh3: tensor<2x2xf32>, %h0: tensor<2x2xf32>, %h1: tensor<2x2xf32>, %h2: tensor<2x2xf32>, %c0: tensor<2x2xf32>, %c1: tensor<2x2xf32>, %c2: tensor<2x2xf32>, %c3: tensor<2x2xf32>, %g0: tensor<2x8xf32>, %g1: tensor<2x8xf32>, %g2: tensor<2x8xf32>, %g3: tensor<2x8xf32>, %w: tensor<8x4xf32>, %r: tensor<8x2xf32>) -> (tensor<8x2xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>) {
  %a:4 = mlg.lstm_cell_backward dh %dh3 h_prev %h2 c_prev %c2 c %c3 gates %g3 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %b:4 = mlg.lstm_cell_backward dh %a#1 dc %a#2 h_prev %h1 c_prev %c1 c %c2 gates %g2 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %s1 = mlg.add %a#3, %b#3 : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x2xf32>
  %blk1 = mlg.stack %b#0, %a#0 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2x8xf32>
  %e:4 = mlg.lstm_cell_backward dh %b#1 dc %b#2 h_prev %h0 c_prev %c0 c %c1 gates %g1 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> (tensor<2x8xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<8x2xf32>)
  %s2 = mlg.add %s1, %e#3 : (tensor<8x2xf32>, tensor<8x2xf32>) -> tensor<8x2xf32>
  %d0 = mlg.lstm_cell_backward dh %e#1 dc %e#2 c %c0 gates %g0 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 0, 0, 0, 0, 0, 0>} : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x8xf32>, tensor<8x4xf32>, tensor<8x2xf32>) -> tensor<2x8xf32>
  %blk0 = mlg.stack %d0, %e#0 : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x2x8xf32>
  return %s2, %blk1, %blk0 : tensor<8x2xf32>, tensor<2x2x8xf32>, tensor<2x2x8xf32>
}
