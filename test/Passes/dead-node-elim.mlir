// RUN: mlg-opt %s --mlg-dead-node-elim --split-input-file | FileCheck %s

// Echo's dead-node elimination on its own: a chain nothing reads goes,
// from its last op back to its first; what the result reads stays.

// CHECK-LABEL: func.func @chains
// CHECK-SAME:      (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = mlg.exp %[[X]]
// CHECK-NEXT:    return %[[E]]
func.func @chains(%x: tensor<4xf32>) -> tensor<4xf32> {
  %e = mlg.exp %x : tensor<4xf32>
  %a = mlg.add %e, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %b = mlg.tanh %a : tensor<4xf32>
  %c = mlg.mul %b, %e : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

// Effects stay: an optimizer update, a store of running statistics, and
// what they read; a load nobody reads goes (reading has no effect).

ml_program.global private mutable @w(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @mean(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>

// CHECK-LABEL: func.func @effects
// CHECK-NOT:     ml_program.global_load @mean
// CHECK:         %[[G:.*]] = mlg.neg %arg0
// CHECK-NEXT:    mlg.sgd_update @w, %[[G]]
// CHECK-NEXT:    %[[M:.*]] = mlg.sqrt %arg1
// CHECK-NEXT:    ml_program.global_store @mean = %[[M]]
// CHECK-NEXT:    return
func.func @effects(%g: tensor<4xf32>, %s: tensor<4xf32>) {
  %unused = ml_program.global_load @mean : tensor<4xf32>
  %n = mlg.neg %g : tensor<4xf32>
  mlg.sgd_update @w, %n {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  %m = mlg.sqrt %s : tensor<4xf32>
  ml_program.global_store @mean = %m : tensor<4xf32>
  return
}

// -----

// A multi-result op stays while any result is read; the gradient of an
// input (a backward op whose result nothing reads) goes.

// CHECK-LABEL: func.func @results
// CHECK:         mlg.batch_norm
// CHECK-NOT:     mlg.conv_backward_data
// CHECK:         return
func.func @results(%x: tensor<2x3x4x4xf32>, %s: tensor<3xf32>, %dy: tensor<2x3x4x4xf32>, %w: tensor<3x3x1x1xf32>) -> tensor<3xf32> {
  %y, %rm, %rv = mlg.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true} : (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3x4x4xf32>, tensor<3xf32>, tensor<3xf32>)
  %dx = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x3x4x4xf32>, tensor<3x3x1x1xf32>) -> tensor<2x3x4x4xf32>
  return %rm : tensor<3xf32>
}
