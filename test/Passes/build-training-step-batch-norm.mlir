// RUN: mlg-opt %s --mlg-build-training-step="frozen=*" --mlg-dead-node-elim | FileCheck %s

// Batch norm in training form writes its running statistics back to their
// globals right after it runs; with every parameter frozen nothing else is
// added.
ml_program.global private mutable @scale(#ml_program.extern : tensor<3xf32>) : tensor<3xf32>
ml_program.global private mutable @bias(#ml_program.extern : tensor<3xf32>) : tensor<3xf32>
ml_program.global private mutable @mean(#ml_program.extern : tensor<3xf32>) : tensor<3xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @var(#ml_program.extern : tensor<3xf32>) : tensor<3xf32> {mlg.role = "state", mlg.init = "ones"}
func.func @forward(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = ml_program.global_load @scale : tensor<3xf32>
  %b = ml_program.global_load @bias : tensor<3xf32>
  %m = ml_program.global_load @mean : tensor<3xf32>
  %v = ml_program.global_load @var : tensor<3xf32>
  %y, %rm, %rv = mlg.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true} : (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>)
  return %y : tensor<2x3xf32>
}
// CHECK-LABEL:  func.func @train_step
// CHECK:        %[[Y:.*]], %[[RM:.*]], %[[RV:.*]] = mlg.batch_norm
// CHECK-NEXT:   ml_program.global_store @mean = %[[RM]] : tensor<3xf32>
// CHECK-NEXT:   ml_program.global_store @var = %[[RV]] : tensor<3xf32>
// CHECK-NEXT:   mlg.softmax_cross_entropy %[[Y]]
