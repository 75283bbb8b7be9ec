// RUN: mlg-opt %s --split-input-file --verify-diagnostics

// Each case is an op whose shapes or attributes disagree; the verifier names
// what is wrong.

// A convolution whose weight expects more input channels than there are.
func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<8x4x3x3xf32>) {
  // expected-error @+2 {{weight 'tensor<8x4x3x3xf32>' expects 4 input channels but the input 'tensor<1x3x8x8xf32>' has 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x6x6xf32>
  return
}

// -----

// A bias with another length than the filter count.
func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{bias 'tensor<4xf32>' must be [8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.conv %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>, tensor<4xf32>) -> tensor<1x8x6x6xf32>
  return
}

// -----

// A kernel larger than the padded input.
func.func @conv_window(%x: tensor<1x3x2x2xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{spatial dimension 0 of size 2 (padded by 0 and 0) cannot hold a window of size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x2x2xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x1x1xf32>
  return
}

// -----

// A declared result type that is not the inferred one.
func.func @conv_result(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+2 {{'mlg.conv' op inferred type(s) 'tensor<1x8x6x6xf32>' are incompatible with return type(s) of operation 'tensor<1x8x8x8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, group = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

// Pads of the wrong length.
func.func @pool_pads(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{an input of rank 4 needs 2 kernel sizes, strides and dilations and 4 pads}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.max_pool %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<1x3x8x8xf32>) -> tensor<1x3x4x4xf32>
  return
}

// -----

// Reshape must keep the element count.
func.func @reshape_count(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot reshape 'tensor<2x3xf32>' into 'tensor<7xf32>': the element counts differ}}
  %0 = mlg.reshape %x : tensor<2x3xf32> to tensor<7xf32>
  return
}

// -----

// Shapes are static: a dynamic dimension is not an mlg tensor.
func.func @dynamic(%x: tensor<?x3xf32>) {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = mlg.relu %x : tensor<?x3xf32>
  return
}

// -----

// perm must be a permutation.
func.func @transpose_perm(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{perm is not a permutation of [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

// Operands that do not broadcast.
func.func @broadcast(%x: tensor<2x3xf32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{operand shapes do not broadcast: 'tensor<2x3xf32>' and 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.add %x, %y : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

// Arithmetic operands must share their element type.
func.func @mixed_types(%x: tensor<3xf32>, %y: tensor<3xi64>) {
  // expected-error @+1 {{requires the same element type for all operands}}
  %0 = mlg.mul %x, %y : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  return
}

// -----

// Concat operands must agree off the axis.
func.func @concat(%x: tensor<2x3xf32>, %y: tensor<3x3xf32>) {
  // expected-error @+2 {{operand #1 has dimension 0 of size 3, expected 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.concat %x, %y {axis = 1 : i64} : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

// Split sizes must add up to the dimension.
func.func @split(%x: tensor<2x6xf32>) {
  // expected-error @+2 {{split sizes add up to 5 but dimension 1 has 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mlg.split %x {axis = 1 : i64, sizes = array<i64: 2, 3>} : (tensor<2x6xf32>) -> (tensor<2x2xf32>, tensor<2x3xf32>)
  return
}

// -----

// Slice bounds must be normalized (clamped into the dimension).
func.func @slice(%x: tensor<4xf32>) {
  // expected-error @+2 {{dimension 0 (size 4): start 0, end 9, step 1 are not normalized}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.slice %x {starts = array<i64: 0>, ends = array<i64: 9>, steps = array<i64: 1>} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

// Gather's axis must exist.
func.func @gather(%x: tensor<4x5xf32>, %i: tensor<2xi64>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.gather %x, %i {axis = 2 : i64} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<4x5xf32>
  return
}

// -----

// Reflect padding cannot reach past the edge.
func.func @pad_reflect(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{reflect padding of dimension 1 must be smaller than its size 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.pad %x {pads = array<i64: 0, 3, 0, 0>, mode = #mlg<pad_mode reflect>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

// Negative padding may crop, but not below zero.
func.func @pad_negative(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{padding dimension 1 (size 3) by -2 and -2 gives a negative or overflowing size}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.pad %x {pads = array<i64: 0, -2, 0, -2>, mode = #mlg<pad_mode constant>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x0xf32>
  return
}

// -----

// Expand broadcasts; it cannot shrink.
func.func @expand(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{cannot broadcast 'tensor<3x4xf32>' to 'tensor<3x2xf32>'}}
  %0 = mlg.expand %x : tensor<3x4xf32> to tensor<3x2xf32>
  return
}

// -----

// Shape's bounds must lie within the rank.
func.func @shape(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{start 1 and end 3 must satisfy 0 <= start <= end <= rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.shape %x {start = 1 : i64, end = 3 : i64} : tensor<3x4xf32> -> tensor<2xi64>
  return
}

// -----

// Softmax's axis must exist.
func.func @softmax(%x: tensor<3x4xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = mlg.softmax %x {axis = 2 : i64} : tensor<3x4xf32>
  return
}

// -----

// One batch-norm parameter per channel.
func.func @batch_norm(%x: tensor<2x4x3x3xf32>, %c: tensor<4xf32>, %d: tensor<3xf32>) {
  // expected-error @+2 {{var 'tensor<3xf32>' must be [4], one entry per channel}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mlg.batch_norm %x, %c, %c, %c, %d {epsilon = 1.0e-5 : f64, momentum = 0.9 : f64, training = false} : (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<3xf32>)
  return
}

// -----

// Dropout's ratio is a probability below 1.
func.func @dropout(%x: tensor<4xf32>) {
  // expected-error @+2 {{ratio 1.500000e+00 must lie in [0, 1)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mlg.dropout %x {ratio = 1.5 : f64, training = true, seed = 1 : i64} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>)
  return
}

// -----

// Gemm's inner dimensions must agree.
func.func @gemm(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{inner dimensions differ: op(A) is 2x3 and op(B) is 4x5}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.gemm %a, %b {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = false} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

// MatMul's batch dimensions must broadcast.
func.func @matmul(%a: tensor<2x3x4xf32>, %b: tensor<5x4x6xf32>) {
  // expected-error @+2 {{batch dimensions of 'tensor<2x3x4xf32>' and 'tensor<5x4x6xf32>' do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.matmul %a, %b : (tensor<2x3x4xf32>, tensor<5x4x6xf32>) -> tensor<2x3x6xf32>
  return
}

// -----

// Reduction axes are sorted and unique.
func.func @reduce(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{axes must be sorted, unique and in [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.reduce_mean %x {axes = array<i64: 1, 0>, keepdims = true} : (tensor<2x3xf32>) -> tensor<1x1xf32>
  return
}

// -----

// The LSTM's recurrence weight must be [D, 4H, H].
func.func @lstm(%x: tensor<7x4x3xf32>, %w: tensor<1x20x3xf32>, %r: tensor<1x20x4xf32>) {
  // expected-error @+2 {{R is 'tensor<1x20x4xf32>', expected shape [1, 20, 5] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %y:3 = mlg.lstm %x, %w, %r {hidden_size = 5 : i64, direction = #mlg<direction forward>, input_forget = false} : (tensor<7x4x3xf32>, tensor<1x20x3xf32>, tensor<1x20x4xf32>) -> (tensor<7x1x4x5xf32>, tensor<1x4x5xf32>, tensor<1x4x5xf32>)
  return
}

// -----

// Element types mlg does not store are rejected.
func.func @element_type(%x: tensor<4xcomplex<f32>>) {
  // expected-error @+1 {{must be statically shaped tensor}}
  %0 = mlg.abs %x : tensor<4xcomplex<f32>>
  return
}
