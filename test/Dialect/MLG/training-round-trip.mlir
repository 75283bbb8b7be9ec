// RUN: mlg-opt %s | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --mlir-print-op-generic | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --emit-bytecode | mlg-opt | FileCheck %s

// The ops the training step adds: losses, their backward, optimizer updates
// on globals and the step counter.

ml_program.global private mutable @w(#ml_program.extern : tensor<4x3xf32>) : tensor<4x3xf32>
ml_program.global private mutable @w.velocity(#ml_program.extern : tensor<4x3xf32>) : tensor<4x3xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @w.adam_m(#ml_program.extern : tensor<4x3xf32>) : tensor<4x3xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @w.adam_v(#ml_program.extern : tensor<4x3xf32>) : tensor<4x3xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @step(#ml_program.extern : tensor<i64>) : tensor<i64> {mlg.role = "state", mlg.init = "zeros"}

// CHECK-LABEL: func @losses
func.func @losses(%x: tensor<8x10xf32>, %l: tensor<8xi64>, %t: tensor<8x10xf32>, %d: tensor<f32>) {
  // CHECK: mlg.softmax_cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  %0 = mlg.softmax_cross_entropy %x, %l : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK: mlg.softmax_cross_entropy_backward %{{.*}}, %{{.*}}, %{{.*}} : (tensor<f32>, tensor<8x10xf32>, tensor<8xi64>) -> tensor<8x10xf32>
  %1 = mlg.softmax_cross_entropy_backward %d, %x, %l : (tensor<f32>, tensor<8x10xf32>, tensor<8xi64>) -> tensor<8x10xf32>
  // CHECK: mlg.mse_loss %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  %2 = mlg.mse_loss %x, %t : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  return
}

// CHECK-LABEL: func @updates
func.func @updates(%g: tensor<4x3xf32>) {
  // CHECK: mlg.increment_step @step
  mlg.increment_step @step
  // CHECK: mlg.sgd_update @w, %{{.*}} {lr = 1.000000e-01 : f64, weight_decay = 0.000000e+00 : f64} : tensor<4x3xf32>
  mlg.sgd_update @w, %g {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4x3xf32>
  // CHECK: mlg.momentum_update @w, @w.velocity, %{{.*}} {lr = 1.000000e-01 : f64, momentum = 9.000000e-01 : f64, nesterov = false, weight_decay = 0.000000e+00 : f64} : tensor<4x3xf32>
  mlg.momentum_update @w, @w.velocity, %g {lr = 0.1 : f64, momentum = 0.9 : f64, nesterov = false, weight_decay = 0.0 : f64} : tensor<4x3xf32>
  // CHECK: mlg.adam_update @w, @w.adam_m, @w.adam_v, @step, %{{.*}} {beta1 = 9.000000e-01 : f64, beta2 = 0.98999999999999999 : f64, epsilon = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, weight_decay = 0.000000e+00 : f64} : tensor<4x3xf32>
  mlg.adam_update @w, @w.adam_m, @w.adam_v, @step, %g {lr = 0.001 : f64, beta1 = 0.9 : f64, beta2 = 0.99 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4x3xf32>
  return
}
