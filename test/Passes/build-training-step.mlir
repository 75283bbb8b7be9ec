// RUN: mlg-opt %s --mlg-build-training-step="lr=0.5" --mlg-dead-node-elim | FileCheck %s
// RUN: mlg-opt %s --mlg-build-training-step="optimizer=momentum momentum=0.8 nesterov=true" | FileCheck %s --check-prefix=MOMENTUM
// RUN: mlg-opt %s --mlg-build-training-step="optimizer=adam lr=0.001 weight-decay=0.01" | FileCheck %s --check-prefix=ADAM
// RUN: mlg-opt %s --mlg-build-training-step="frozen=w1,b*" --mlg-dead-node-elim | FileCheck %s --check-prefix=FROZEN
// RUN: mlg-opt %s --mlg-build-training-step="loss=mse optimizer=none return-gradients=true" --mlg-dead-node-elim | FileCheck %s --check-prefix=MSE

// A two-layer MLP: the training step takes labels and returns the loss; the
// backward runs in reverse; each update comes right after its gradient is
// complete and the parameter's last read.

ml_program.global private mutable @w1(#ml_program.extern : tensor<16x8xf32>) : tensor<16x8xf32>
ml_program.global private mutable @b1(#ml_program.extern : tensor<16xf32>) : tensor<16xf32>
ml_program.global private mutable @w2(#ml_program.extern : tensor<4x16xf32>) : tensor<4x16xf32>
func.func @forward(%x: tensor<2x8xf32> {mlg.name = "input"}) -> (tensor<2x4xf32> {mlg.name = "logits"}) {
  %w1 = ml_program.global_load @w1 : tensor<16x8xf32>
  %b1 = ml_program.global_load @b1 : tensor<16xf32>
  %w2 = ml_program.global_load @w2 : tensor<4x16xf32>
  %h = mlg.gemm %x, %w1, %b1 {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<2x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  %a = mlg.mul %h, %h : (tensor<2x16xf32>, tensor<2x16xf32>) -> tensor<2x16xf32>
  %y = mlg.gemm %a, %w2 {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<2x16xf32>, tensor<4x16xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @train_step(
// CHECK-SAME:      %[[X:.*]]: tensor<2x8xf32> {mlg.name = "input"}, %[[LABELS:.*]]: tensor<2xi64> {mlg.name = "labels"})
// CHECK-SAME:      -> (tensor<f32> {mlg.name = "loss"})
// CHECK:         %[[W2:.*]] = ml_program.global_load @w2
// CHECK:         %[[H:.*]] = mlg.gemm %[[X]]
// CHECK:         %[[A:.*]] = mlg.mul %[[H]], %[[H]]
// CHECK:         %[[Y:.*]] = mlg.gemm %[[A]], %[[W2]]
// CHECK:         %[[LOSS:.*]] = mlg.softmax_cross_entropy %[[Y]], %[[LABELS]]
// CHECK:         %[[ONE:.*]] = mlg.constant dense<1.000000e+00> : tensor<f32>
// CHECK:         %[[DY:.*]] = mlg.softmax_cross_entropy_backward %[[ONE]], %[[Y]], %[[LABELS]]
// CHECK:         %[[DA:.*]] = mlg.gemm %[[DY]], %[[W2]] {{.*}}trans_a = false, trans_b = false
// CHECK:         %[[DW2:.*]] = mlg.gemm %[[DY]], %[[A]] {{.*}}trans_a = true, trans_b = false
// CHECK-NEXT:    mlg.sgd_update @w2, %[[DW2]] {lr = 5.000000e-01 : f64, weight_decay = 0.000000e+00 : f64}
// The two uses of %h: their gradients are summed.
// CHECK:         %[[D1:.*]] = mlg.mul %[[DA]], %[[H]]
// CHECK:         %[[D2:.*]] = mlg.mul %[[DA]], %[[H]]
// CHECK:         %[[DH:.*]] = mlg.add %[[D1]], %[[D2]]
// The input's gradient is dead and gone; the bias gradient undoes broadcasting.
// CHECK-NOT:     mlg.gemm %[[DH]], {{.*}}trans_b = false
// CHECK:         %[[DW1:.*]] = mlg.gemm %[[DH]], %[[X]] {{.*}}trans_a = true
// CHECK:         %[[SUM:.*]] = mlg.reduce_sum %[[DH]] {axes = array<i64: 0>, keepdims = true}
// CHECK:         %[[DB1:.*]] = mlg.reshape %[[SUM]] : tensor<1x16xf32> to tensor<16xf32>
// CHECK:         mlg.sgd_update @w1, %[[DW1]]
// CHECK:         mlg.sgd_update @b1, %[[DB1]]
// CHECK:         return %[[LOSS]] : tensor<f32>

// Momentum keeps a velocity per parameter, zero-initialized state.
// MOMENTUM-DAG:  ml_program.global private mutable @w1.velocity(#{{.*}}) : tensor<16x8xf32> {mlg.init = "zeros", mlg.role = "state"}
// MOMENTUM-DAG:  ml_program.global private mutable @w2.velocity(#{{.*}}) : tensor<4x16xf32> {mlg.init = "zeros", mlg.role = "state"}
// MOMENTUM:      mlg.momentum_update @w2, @w2.velocity, %{{.*}} {lr = 1.000000e-02 : f64, momentum = 8.000000e-01 : f64, nesterov = true, weight_decay = 0.000000e+00 : f64} : tensor<4x16xf32>

// Adam: two moments per parameter and a step counter incremented first.
// ADAM-DAG:      ml_program.global private mutable @mlg.step(#{{.*}}) : tensor<i64> {mlg.init = "zeros", mlg.role = "state"}
// ADAM-DAG:      ml_program.global private mutable @w1.adam_m(#{{.*}}) : tensor<16x8xf32> {mlg.init = "zeros", mlg.role = "state"}
// ADAM-DAG:      ml_program.global private mutable @w1.adam_v(#{{.*}}) : tensor<16x8xf32> {mlg.init = "zeros", mlg.role = "state"}
// ADAM:          func.func @train_step
// ADAM-NEXT:       mlg.increment_step @mlg.step
// ADAM:            mlg.adam_update @w2, @w2.adam_m, @w2.adam_v, @mlg.step, %{{.*}} {beta1 = 9.000000e-01 : f64, beta2 = 0.99899999999999999 : f64, epsilon = 1.000000e-08 : f64, lr = 1.000000e-03 : f64, weight_decay = 1.000000e-02 : f64}

// Frozen parameters get no update, and their gradients are dead: only w2's
// gradient remains of the backward matrix products.
// FROZEN-LABEL:  func.func @train_step
// FROZEN-NOT:    @w1,
// FROZEN-NOT:    @b1,
// FROZEN:        mlg.softmax_cross_entropy_backward
// FROZEN-NEXT:   %[[DW2:.*]] = mlg.gemm {{.*}}trans_a = true, trans_b = false
// FROZEN-NEXT:   mlg.sgd_update @w2, %[[DW2]]
// FROZEN-NEXT:   return

// MSE takes labels of the output's type; return-gradients returns each
// parameter's gradient after the loss; optimizer=none updates nothing.
// MSE-LABEL:     func.func @train_step(
// MSE-SAME:          %{{.*}}: tensor<2x4xf32> {mlg.name = "labels"})
// MSE-SAME:          -> (tensor<f32> {mlg.name = "loss"}, tensor<4x16xf32> {mlg.name = "grad:w2"}, tensor<16x8xf32> {mlg.name = "grad:w1"}, tensor<16xf32> {mlg.name = "grad:b1"})
// MSE:           mlg.mse_loss
// MSE-NOT:       _update
