// RUN: mlg-opt %s --split-input-file --mlg-lower-pipeline --verify-diagnostics | FileCheck %s

// Updates write their globals in place: the globals become the step's
// outputs (the step counter, only read, an input after the gradient); a
// store of running statistics becomes a copy into the persistent tensor.

ml_program.global private mutable @w(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @w.adam_m(#ml_program.extern : tensor<4xf32>) : tensor<4xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @w.adam_v(#ml_program.extern : tensor<4xf32>) : tensor<4xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @mlg.step(#ml_program.extern : tensor<i64>) : tensor<i64> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @mean(#ml_program.extern : tensor<4xf32>) : tensor<4xf32> {mlg.role = "state", mlg.init = "zeros"}
func.func @train_step(%x: tensor<4xf32> {mlg.name = "input"}) -> (tensor<4xf32> {mlg.name = "loss"}) {
  mlg.increment_step @mlg.step
  %w = ml_program.global_load @w : tensor<4xf32>
  %y = mlg.mul %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  ml_program.global_store @mean = %y : tensor<4xf32>
  %g = mlg.mul %y, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  mlg.adam_update @w, @w.adam_m, @w.adam_v, @mlg.step, %g {lr = 0.001 : f64, beta1 = 0.9 : f64, beta2 = 0.99 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// CHECK-LABEL: mlgrt.program @train_step
// CHECK:         %[[STEP:.*]] = mlgrt.persistent "mlg.step" state {init = #mlgrt<init zeros>} : memref<i64>
// CHECK-NEXT:    mlgrt.step "increment_step"() -> (%[[STEP]]) {kernel_attrs = {}
// CHECK-SAME:      : () -> (memref<i64>)
// CHECK:         %[[MEAN:.*]] = mlgrt.persistent "mean" state {init = #mlgrt<init zeros>} : memref<4xf32>
// CHECK-NEXT:    mlgrt.step "copy"(%[[Y:.*]]) -> (%[[MEAN]]) {kernel_attrs = {}
// CHECK:         mlgrt.step "mul"
// CHECK:         %[[S:.*]] = mlgrt.persistent "mlg.step" state
// CHECK:         %[[W:.*]] = mlgrt.persistent "w" parameter : memref<4xf32>
// CHECK:         %[[M:.*]] = mlgrt.persistent "w.adam_m" state
// CHECK:         %[[V:.*]] = mlgrt.persistent "w.adam_v" state
// CHECK:         mlgrt.step "adam_update"(%{{.*}}, %[[S]]) -> (%[[W]], %[[M]], %[[V]]) {kernel_attrs = {beta1 = 9.000000e-01 : f64, {{.*}}weight_decay = 0.000000e+00 : f64}
// CHECK-SAME:      : (memref<4xf32>, memref<i64>) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>)

// -----

// A read of a parameter after its in-place update would see the new value.
ml_program.global private mutable @w(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
func.func @late_read(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = ml_program.global_load @w : tensor<4xf32>
  mlg.sgd_update @w, %x {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  // expected-error @+1 {{reads @w after an earlier step updated it in place}}
  %y = mlg.mul %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
