// RUN: mlg-opt %s --mlg-unroll-lstm="projection-steps=2" | FileCheck %s
// RUN: mlg-opt %s --mlg-unroll-lstm="projection-steps=9" | FileCheck %s --check-prefix=WHOLE
// RUN: mlg-opt %s --mlg-unroll-lstm="projection-steps=-1" | FileCheck %s --check-prefix=ROOT
// RUN: not mlg-opt %s --mlg-unroll-lstm="projection-steps=-2" 2>&1 | FileCheck %s --check-prefix=BAD

// projection-steps=2 over 5 steps: X is split into blocks of 2, 2 and 1
// steps, each projected by its own product and cut into its steps (the
// last block, one step, is its product) just before the block's first
// cell, so that a plan can recompute one block's projection at a time and
// the backward takes each block's projection gradients right after its
// cells'.
// CHECK-LABEL: func.func @forward
// CHECK:      %[[S:.*]]:3 = mlg.split %arg0 {axis = 0 : i64, sizes = array<i64: 2, 2, 1>} : (tensor<5x2x4xf32>) -> (tensor<2x2x4xf32>, tensor<2x2x4xf32>, tensor<1x2x4xf32>)
// CHECK-DAG:  %[[X0:.*]] = mlg.reshape %[[S]]#0 : tensor<2x2x4xf32> to tensor<4x4xf32>
// CHECK-DAG:  %[[X1:.*]] = mlg.reshape %[[S]]#1 : tensor<2x2x4xf32> to tensor<4x4xf32>
// CHECK-DAG:  %[[X2:.*]] = mlg.reshape %[[S]]#2 : tensor<1x2x4xf32> to tensor<2x4xf32>
// CHECK-DAG:  %[[W:.*]] = mlg.reshape %arg1 : tensor<1x8x4xf32> to tensor<8x4xf32>
// CHECK:      %[[P0:.*]] = mlg.gemm %[[X0]], %[[W]] {{.*}}recurrent{{.*}} -> tensor<4x8xf32>
// CHECK:      %[[Q0:.*]]:2 = mlg.unstack
// CHECK:      %[[H1:.*]], %[[C1:.*]], %{{.*}} = mlg.lstm_cell %[[Q0]]#0 weights
// CHECK:      %[[H2:.*]], %[[C2:.*]], %{{.*}} = mlg.lstm_cell %[[Q0]]#1 h_prev %[[H1]] c_prev %[[C1]]
// CHECK:      %[[P1:.*]] = mlg.gemm %[[X1]], %[[W]] {{.*}}recurrent{{.*}} -> tensor<4x8xf32>
// CHECK:      %[[Q1:.*]]:2 = mlg.unstack
// CHECK:      %[[H3:.*]], %[[C3:.*]], %{{.*}} = mlg.lstm_cell %[[Q1]]#0 h_prev %[[H2]] c_prev %[[C2]]
// CHECK:      %[[H4:.*]], %[[C4:.*]], %{{.*}} = mlg.lstm_cell %[[Q1]]#1 h_prev %[[H3]] c_prev %[[C3]]
// CHECK:      %[[P2:.*]] = mlg.gemm %[[X2]], %[[W]] {{.*}}recurrent{{.*}} -> tensor<2x8xf32>
// CHECK:      %[[H5:.*]], %{{.*}}, %{{.*}} = mlg.lstm_cell %[[P2]] h_prev %[[H4]] c_prev %[[C4]]
// CHECK:      mlg.stack %[[H1]], %[[H2]], %[[H3]], %[[H4]], %[[H5]]

// Blocks at least as long as the sequence: one product, as without.
// WHOLE-NOT:  mlg.split
// WHOLE:      mlg.gemm {{.*}} -> tensor<10x8xf32>
// WHOLE-NOT:  mlg.gemm

// About the square root of 5 steps: blocks of 3 and 2.
// ROOT:       mlg.split %arg0 {axis = 0 : i64, sizes = array<i64: 3, 2>}

// BAD: error: projection-steps=-2: must be 0 (the whole sequence), -1 (about the square root of the sequence length) or more
func.func @forward(%x: tensor<5x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x2xf32>) -> tensor<5x1x2x2xf32> {
  %y:3 = mlg.lstm %x, %w, %r {hidden_size = 2 : i64, direction = #mlg<direction forward>, input_forget = false} : (tensor<5x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x2xf32>) -> (tensor<5x1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return %y#0 : tensor<5x1x2x2xf32>
}
