ml_program.global private mutable @w(#ml_program.extern : tensor<16x10xf32>) : tensor<16x10xf32>
ml_program.global private mutable @b(#ml_program.extern : tensor<10xf32>) : tensor<10xf32>
func.func @forward(%x: tensor<4x6x16xf32>) -> tensor<4x6x10xf32> {
  %w = ml_program.global_load @w : tensor<16x10xf32>
  %b = ml_program.global_load @b : tensor<10xf32>
  %t = mlg.tanh %x : tensor<4x6x16xf32>
  %y = mlg.matmul %t, %w : (tensor<4x6x16xf32>, tensor<16x10xf32>) -> tensor<4x6x10xf32>
  %z = mlg.add %b, %y : (tensor<10xf32>, tensor<4x6x10xf32>) -> tensor<4x6x10xf32>
  return %z : tensor<4x6x10xf32>
}
