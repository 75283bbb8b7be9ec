// RUN: mlg-opt %s --split-input-file --test-mlg-cost-model -o /dev/null | FileCheck %s
// RUN: mlg-opt %s --split-input-file --test-mlg-cost-model=profile=%S/Inputs/cost-profile.json -o /dev/null | FileCheck %s --check-prefix=PROFILE
// RUN: not mlg-opt %s --split-input-file --test-mlg-cost-model=profile=%t.missing.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: echo '{"steps": [{"kernel": "conv"}]}' > %t.bad.json
// RUN: not mlg-opt %s --split-input-file --test-mlg-cost-model=profile=%t.bad.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=BAD

// Matrix products count two operations a multiply-add: the convolution
// 128 outputs x 27 taps (stride 2, padding 1), the Gemm 35 x 6, the batched
// MatMul 30 x 6. Other ops one a result element; all move their operands'
// and results' bytes. On the H200 defaults each is a launch (2 us) plus
// its roofline time; with a profile, measured steps take their measured
// time (the mean of the steps sharing a kernel and node).
// CHECK-LABEL: cost @ops on NVIDIA H200 (defaults)
// CHECK-NEXT:  mlg.conv 'conv1': flops 6912, bytes 2480, matrix, 2.001 us
// CHECK-NEXT:  mlg.relu 'relu1': flops 128, bytes 1024, vector, 2.000 us
// CHECK-NEXT:  mlg.gemm 'fc': flops 420, bytes 428, matrix, 2.000 us
// CHECK-NEXT:  mlg.matmul '': flops 360, bytes 624, matrix, 2.000 us
// CHECK-NEXT:  mlg.reshape '': flops 0, bytes 0, free, 0.000 us
// CHECK-NEXT:  func.return '': flops 0, bytes 0, free, 0.000 us
// CHECK-NEXT:  total: flops 7820, bytes 4556, 8.001 us
// PROFILE-LABEL: cost @ops on NVIDIA H200 (cuDNN 91900, cuBLAS 130100)
// PROFILE-NEXT:  mlg.conv 'conv1': {{.*}}, 500.000 us (measured)
// PROFILE-NEXT:  mlg.relu 'relu1': {{.*}}, 2000.000 us (measured)
// PROFILE-NEXT:  mlg.gemm 'fc': {{.*}}, 2.000 us{{$}}
// MISSING: error: profile '{{.*}}missing.json': No such file or directory
// BAD: error: profile '{{.*}}bad.json': a step lacks its kernel, name or a non-negative ms
func.func @ops(%x: tensor<2x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %a: tensor<5x6xf32>, %b: tensor<7x6xf32>, %l: tensor<3x5x6xf32>, %r: tensor<3x6x2xf32>) -> (tensor<2x4x4x4xf32>, tensor<5x7xf32>, tensor<3x10xf32>) {
  %y = mlg.conv %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<2x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<2x4x4x4xf32> loc("conv1")
  %z = mlg.relu %y : tensor<2x4x4x4xf32> loc("relu1")
  %g = mlg.gemm %a, %b {alpha = 1.0 : f64, beta = 0.0 : f64, trans_a = false, trans_b = true} : (tensor<5x6xf32>, tensor<7x6xf32>) -> tensor<5x7xf32> loc("fc")
  %m = mlg.matmul %l, %r : (tensor<3x5x6xf32>, tensor<3x6x2xf32>) -> tensor<3x5x2xf32>
  %v = mlg.reshape %m : tensor<3x5x2xf32> to tensor<3x10xf32>
  return %z, %g, %v : tensor<2x4x4x4xf32>, tensor<5x7xf32>, tensor<3x10xf32>
}

// -----

// An LSTM step [N = 2, H = 4, I = 3]: the plain cell multiplies x by W and
// h_prev by R (2 x 2 x 16 x (3 + 4)) plus ten operations a gate element;
// a projected one only h_prev by R. Its backward's products: dx and dW (2 x
// 2 x 16 x 3 each) and dh_prev and dR (2 x 2 x 16 x 4 each) plus ten a gate
// element; projected, only dh_prev's.
// CHECK-LABEL: cost @lstm
// CHECK:       mlg.lstm_cell '': flops 768, {{.*}}matrix
// CHECK-NEXT:  mlg.lstm_cell '': flops 576,
// CHECK-NEXT:  mlg.lstm_cell_backward '': flops 1216,
// CHECK-NEXT:  mlg.lstm_cell_backward '': flops 576,
func.func @lstm(%x: tensor<2x3xf32>, %xw: tensor<2x16xf32>, %h0: tensor<2x4xf32>, %c0: tensor<2x4xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %dh: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x16xf32>) {
  %h1, %c1, %g1 = mlg.lstm_cell %x h_prev %h0 c_prev %c0 weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %h2, %c2, %g2 = mlg.lstm_cell %xw h_prev %h0 c_prev %c0 weights %w, %r {input_forget = false, projected} : (tensor<2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %b:5 = mlg.lstm_cell_backward dh %dh x %x h_prev %h0 c_prev %c0 c %c1 gates %g1 weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>)
  %p:3 = mlg.lstm_cell_backward dh %dh h_prev %h0 c_prev %c0 c %c2 gates %g2 weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x16xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  return %b#0, %p#0 : tensor<2x3xf32>, tensor<2x16xf32>
}
