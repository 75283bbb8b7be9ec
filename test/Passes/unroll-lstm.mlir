// RUN: mlg-opt %s --mlg-unroll-lstm --split-input-file | FileCheck %s

// The zero initial states (what exporters write for "none") are dropped:
// the first cell reads no state. The whole sequence is projected by W in
// one product, cut into steps for the cells. Y stacks every step's h; Y_h
// is a view of the last; Y_c, unread, is not built.
// CHECK-LABEL: func.func @forward
// CHECK-NOT:  mlg.constant
// CHECK-NOT:  mlg.lstm {{.*}}hidden_size
// CHECK-DAG:  %[[XF:.*]] = mlg.reshape %arg0 : tensor<3x2x4xf32> to tensor<6x4xf32>
// CHECK-DAG:  %[[W:.*]] = mlg.reshape %arg1 : tensor<1x8x4xf32> to tensor<8x4xf32>
// CHECK-DAG:  %[[R:.*]] = mlg.reshape %arg2 : tensor<1x8x2xf32> to tensor<8x2xf32>
// CHECK-DAG:  %[[B:.*]] = mlg.reshape %arg3 : tensor<1x16xf32> to tensor<16xf32>
// CHECK:      %[[XW:.*]] = mlg.gemm %[[XF]], %[[W]] {alpha = 1.000000e+00 : f64, beta = 0.000000e+00 : f64, recurrent, trans_a = false, trans_b = true} : (tensor<6x4xf32>, tensor<8x4xf32>) -> tensor<6x8xf32>
// CHECK:      %[[XW3:.*]] = mlg.reshape %[[XW]] : tensor<6x8xf32> to tensor<3x2x8xf32>
// CHECK:      %[[X:.*]]:3 = mlg.unstack %[[XW3]] : (tensor<3x2x8xf32>) -> (tensor<2x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>)
// CHECK:      %[[H1:.*]], %[[C1:.*]], %{{.*}} = mlg.lstm_cell %[[X]]#0 weights %[[W]], %[[R]] bias %[[B]] {input_forget = false, projected}
// CHECK:      %[[H2:.*]], %[[C2:.*]], %{{.*}} = mlg.lstm_cell %[[X]]#1 h_prev %[[H1]] c_prev %[[C1]] weights %[[W]], %[[R]] bias %[[B]] {input_forget = false, projected}
// CHECK:      %[[H3:.*]], %{{.*}}, %{{.*}} = mlg.lstm_cell %[[X]]#2 h_prev %[[H2]] c_prev %[[C2]] weights %[[W]], %[[R]] bias %[[B]] {input_forget = false, projected}
// CHECK:      %[[Y:.*]] = mlg.stack %[[H1]], %[[H2]], %[[H3]] : (tensor<2x2xf32>, tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<3x1x2x2xf32>
// CHECK:      %[[YH:.*]] = mlg.reshape %[[H3]] : tensor<2x2xf32> to tensor<1x2x2xf32>
// CHECK:      return %[[Y]], %[[YH]]
func.func @forward(%x: tensor<3x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x2xf32>, %b: tensor<1x16xf32>) -> (tensor<3x1x2x2xf32>, tensor<1x2x2xf32>) {
  %z = mlg.constant dense<0.0> : tensor<1x2x2xf32>
  %y:3 = mlg.lstm %x, %w, %r bias %b initial_h %z initial_c %z {hidden_size = 2 : i64, direction = #mlg<direction forward>, input_forget = false} : (tensor<3x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x2xf32>, tensor<1x16xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>) -> (tensor<3x1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return %y#0, %y#1 : tensor<3x1x2x2xf32>, tensor<1x2x2xf32>
}

// -----

// A reverse LSTM starts at the last step; only Y_c is read.
// CHECK-LABEL: func.func @reverse
// CHECK:      %[[H0:.*]] = mlg.reshape %arg3 : tensor<1x2x2xf32> to tensor<2x2xf32>
// CHECK:      %[[X:.*]]:2 = mlg.unstack
// CHECK:      %[[H1:.*]], %[[C1:.*]], %{{.*}} = mlg.lstm_cell %[[X]]#1 h_prev %[[H0]] weights
// CHECK:      %{{.*}}, %[[C2:.*]], %{{.*}} = mlg.lstm_cell %[[X]]#0 h_prev %[[H1]] c_prev %[[C1]] weights
// CHECK-NOT:  mlg.stack
// CHECK:      %[[YC:.*]] = mlg.reshape %[[C2]] : tensor<2x2xf32> to tensor<1x2x2xf32>
// CHECK:      return %[[YC]]
func.func @reverse(%x: tensor<2x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x2xf32>, %h: tensor<1x2x2xf32>) -> tensor<1x2x2xf32> {
  %y:3 = mlg.lstm %x, %w, %r initial_h %h {hidden_size = 2 : i64, direction = #mlg<direction reverse>, input_forget = false} : (tensor<2x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x2xf32>, tensor<1x2x2xf32>) -> (tensor<2x1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return %y#2 : tensor<1x2x2xf32>
}

// -----

// Both directions share the steps of X, each projects it by its own W; Y
// is time-major, then direction.
// CHECK-LABEL: func.func @bidirectional
// CHECK:      %[[XF:.*]] = mlg.reshape %arg0 : tensor<2x2x4xf32> to tensor<4x4xf32>
// CHECK:      %[[W:.*]]:2 = mlg.unstack %arg1 : (tensor<2x8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>)
// CHECK:      %[[R:.*]]:2 = mlg.unstack %arg2
// CHECK:      %[[XW0:.*]] = mlg.gemm %[[XF]], %[[W]]#0 {{.*}}recurrent
// CHECK:      %[[X:.*]]:2 = mlg.unstack
// CHECK:      %[[F0:.*]], %[[FC0:.*]], %{{.*}} = mlg.lstm_cell %[[X]]#0 weights %[[W]]#0, %[[R]]#0 {clip = 3.000000e+00 : f64, input_forget = false, projected}
// CHECK:      %[[F1:.*]], %{{.*}}, %{{.*}} = mlg.lstm_cell %[[X]]#1 h_prev %[[F0]] c_prev %[[FC0]] weights %[[W]]#0, %[[R]]#0
// CHECK:      %[[XW1:.*]] = mlg.gemm %[[XF]], %[[W]]#1 {{.*}}recurrent
// CHECK:      %[[XB:.*]]:2 = mlg.unstack
// CHECK:      %[[B1:.*]], %[[BC1:.*]], %{{.*}} = mlg.lstm_cell %[[XB]]#1 weights %[[W]]#1, %[[R]]#1
// CHECK:      %[[B0:.*]], %{{.*}}, %{{.*}} = mlg.lstm_cell %[[XB]]#0 h_prev %[[B1]] c_prev %[[BC1]] weights %[[W]]#1, %[[R]]#1
// CHECK:      %[[Y:.*]] = mlg.stack %[[F0]], %[[B0]], %[[F1]], %[[B1]] : {{.*}} -> tensor<2x2x2x2xf32>
// CHECK:      return %[[Y]]
func.func @bidirectional(%x: tensor<2x2x4xf32>, %w: tensor<2x8x4xf32>, %r: tensor<2x8x2xf32>) -> tensor<2x2x2x2xf32> {
  %y:3 = mlg.lstm %x, %w, %r {hidden_size = 2 : i64, direction = #mlg<direction bidirectional>, input_forget = false, clip = 3.0 : f64} : (tensor<2x2x4xf32>, tensor<2x8x4xf32>, tensor<2x8x2xf32>) -> (tensor<2x2x2x2xf32>, tensor<2x2x2xf32>, tensor<2x2x2xf32>)
  return %y#0 : tensor<2x2x2x2xf32>
}


// -----

// One step has nothing to batch: the cell multiplies its input itself.
// CHECK-LABEL: func.func @one_step
// CHECK-NOT:  mlg.gemm
// CHECK:      %[[X:.*]] = mlg.reshape %arg0 : tensor<1x2x4xf32> to tensor<2x4xf32>
// CHECK:      mlg.lstm_cell %[[X]] weights {{.*}} {input_forget = false} : (tensor<2x4xf32>
func.func @one_step(%x: tensor<1x2x4xf32>, %w: tensor<1x8x4xf32>, %r: tensor<1x8x2xf32>) -> tensor<1x2x2xf32> {
  %y:3 = mlg.lstm %x, %w, %r {hidden_size = 2 : i64, direction = #mlg<direction forward>, input_forget = false} : (tensor<1x2x4xf32>, tensor<1x8x4xf32>, tensor<1x8x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x2x2xf32>, tensor<1x2x2xf32>)
  return %y#1 : tensor<1x2x2xf32>
}
