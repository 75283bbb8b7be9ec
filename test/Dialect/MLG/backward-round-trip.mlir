// RUN: mlg-opt %s | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --mlir-print-op-generic | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --emit-bytecode | mlg-opt | FileCheck %s

// The backward ops that automatic differentiation creates (convolution,
// pooling, normalization, softmax, dropout, activation and layout backwards)
// and the LSTM's training form (lstm_cell, lstm_cell_backward, stack,
// unstack) print in their custom form and parse back to the same IR, in
// text, generic and bytecode form.

// Stride 2, pads 1: [2, 4, 8, 8] * [6, 4, 3, 3] gives [2, 6, 4, 4]. With
// group 2 and dilation 2 the weight holds 4 / 2 channels.
// CHECK-LABEL: func @conv
func.func @conv(%dy: tensor<2x6x4x4xf32>, %w: tensor<6x4x3x3xf32>, %x: tensor<2x4x8x8xf32>,
                %dyg: tensor<2x6x8x8xf32>, %wg: tensor<6x2x3x3xf32>) {
  // CHECK: mlg.conv_backward_data %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  %0 = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mlg.conv_backward_filter %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x4x3x3xf32>
  %1 = mlg.conv_backward_filter %dy, %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x4x3x3xf32>
  // CHECK: mlg.conv_backward_data %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x6x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  %2 = mlg.conv_backward_data %dyg, %wg {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x6x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mlg.conv_backward_filter %{{.*}}, %{{.*}} {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x6x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  %3 = mlg.conv_backward_filter %dyg, %x {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 2, 2, 2, 2>, strides = array<i64: 1, 1>} : (tensor<2x6x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<6x2x3x3xf32>
  return
}

// Max pooling 3x3 / 2 with pads 1, in ceil mode, and over the whole plane
// (a global max pool's gradient); average pooling with and without padding.
// CHECK-LABEL: func @pooling
func.func @pooling(%x: tensor<2x4x8x8xf32>, %dy: tensor<2x4x4x4xf32>, %x7: tensor<2x4x7x7xf32>,
                   %dg: tensor<2x4x1x1xf32>, %dy5: tensor<2x4x5x5xf32>) {
  // CHECK: mlg.max_pool_backward %{{.*}}, %{{.*}} {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %0 = mlg.max_pool_backward %dy, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mlg.max_pool_backward %{{.*}}, %{{.*}} {ceil_mode = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  %1 = mlg.max_pool_backward %dy, %x7 {ceil_mode = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  // CHECK: mlg.max_pool_backward %{{.*}}, %{{.*}} {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 8, 8>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x4x1x1xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %2 = mlg.max_pool_backward %dg, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 8, 8>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x4x1x1xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mlg.average_pool_backward %{{.*}} {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  %3 = mlg.average_pool_backward %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mlg.average_pool_backward %{{.*}} {ceil_mode = false, count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x5x5xf32>) -> tensor<2x4x8x8xf32>
  %4 = mlg.average_pool_backward %dy5 {ceil_mode = false, count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x5x5xf32>) -> tensor<2x4x8x8xf32>
  return
}

// The training form (no statistics), the inference form (mean and var), and
// per-channel operands of another float type than the input.
// CHECK-LABEL: func @batch_norm
func.func @batch_norm(%dy: tensor<2x4x3x3xf32>, %x: tensor<2x4x3x3xf32>, %s: tensor<4xf32>,
                      %m: tensor<4xf32>, %v: tensor<4xf32>, %s16: tensor<4xf16>) {
  // CHECK: mlg.batch_norm_backward %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {epsilon = 1.000000e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %0:3 = mlg.batch_norm_backward %dy, %x, %s {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: mlg.batch_norm_backward %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} mean %{{[^ ]+}} var %{{[^ ]+}} {epsilon = 1.000000e-03 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  %1:3 = mlg.batch_norm_backward %dy, %x, %s mean %m var %v {epsilon = 1.0e-03 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: mlg.batch_norm_backward %{{[^ ]+}}, %{{[^ ]+}}, %{{[^ ]+}} {epsilon = 1.000000e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf16>) -> (tensor<2x4x3x3xf32>, tensor<4xf16>, tensor<4xf16>)
  %2:3 = mlg.batch_norm_backward %dy, %x, %s16 {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf16>) -> (tensor<2x4x3x3xf32>, tensor<4xf16>, tensor<4xf16>)
  return
}

// Normalizing the last dimension, and the last two with a scale that
// broadcasts over the first of them (its gradient keeps the scale's shape).
// CHECK-LABEL: func @layer_norm
func.func @layer_norm(%dy: tensor<2x5x8xf32>, %x: tensor<2x5x8xf32>, %g: tensor<8xf32>,
                      %mean: tensor<2x5x1xf32>, %rstd: tensor<2x5x1xf32>,
                      %mean1: tensor<2x1x1xf32>, %rstd1: tensor<2x1x1xf32>) {
  // CHECK: mlg.layer_norm_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x5x1xf32>, tensor<2x5x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  %0:2 = mlg.layer_norm_backward %dy, %x, %g, %mean, %rstd {axis = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x5x1xf32>, tensor<2x5x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  // CHECK: mlg.layer_norm_backward %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  %1:2 = mlg.layer_norm_backward %dy, %x, %g, %mean1, %rstd1 {axis = 1 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  return
}

// CHECK-LABEL: func @softmax_dropout
func.func @softmax_dropout(%dy: tensor<2x3x10xf32>, %y: tensor<2x3x10xf32>, %mask: tensor<2x3x10xi1>,
                           %dyh: tensor<4x6xf16>, %yh: tensor<4x6xf16>) {
  // CHECK: mlg.softmax_backward %{{.*}}, %{{.*}} {axis = 2 : i64} : (tensor<2x3x10xf32>, tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  %0 = mlg.softmax_backward %dy, %y {axis = 2 : i64} : (tensor<2x3x10xf32>, tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  // CHECK: mlg.softmax_backward %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<4x6xf16>, tensor<4x6xf16>) -> tensor<4x6xf16>
  %1 = mlg.softmax_backward %dyh, %yh {axis = 0 : i64} : (tensor<4x6xf16>, tensor<4x6xf16>) -> tensor<4x6xf16>
  // CHECK: mlg.log_softmax_backward %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<2x3x10xf32>, tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  %2 = mlg.log_softmax_backward %dy, %y {axis = 1 : i64} : (tensor<2x3x10xf32>, tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  // CHECK: mlg.dropout_backward %{{.*}}, %{{.*}} {ratio = 1.000000e-01 : f64} : (tensor<2x3x10xf32>, tensor<2x3x10xi1>) -> tensor<2x3x10xf32>
  %3 = mlg.dropout_backward %dy, %mask {ratio = 0.1 : f64} : (tensor<2x3x10xf32>, tensor<2x3x10xi1>) -> tensor<2x3x10xf32>
  return
}

// Clip's bounds are optional, each on its own.
// CHECK-LABEL: func @activations
func.func @activations(%dy: tensor<2x3x4xf32>, %y: tensor<2x3x4xf32>, %dyd: tensor<5xf64>, %yd: tensor<5xf64>) {
  // CHECK: mlg.relu_backward %{{.*}}, %{{.*}} : tensor<2x3x4xf32>
  %0 = mlg.relu_backward %dy, %y : tensor<2x3x4xf32>
  // CHECK: mlg.sigmoid_backward %{{.*}}, %{{.*}} : tensor<2x3x4xf32>
  %1 = mlg.sigmoid_backward %dy, %y : tensor<2x3x4xf32>
  // CHECK: mlg.tanh_backward %{{.*}}, %{{.*}} : tensor<5xf64>
  %2 = mlg.tanh_backward %dyd, %yd : tensor<5xf64>
  // CHECK: mlg.clip_backward %{{[^ ]+}}, %{{[^ ]+}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<2x3x4xf32>
  %3 = mlg.clip_backward %dy, %y {max = 6.0 : f64, min = 0.0 : f64} : tensor<2x3x4xf32>
  // CHECK: mlg.clip_backward %{{[^ ]+}}, %{{[^ ]+}} {min = -1.000000e+00 : f64} : tensor<2x3x4xf32>
  %4 = mlg.clip_backward %dy, %y {min = -1.0 : f64} : tensor<2x3x4xf32>
  // CHECK: mlg.clip_backward %{{[^ ]+}}, %{{[^ ]+}} {max = 1.000000e+00 : f64} : tensor<5xf64>
  %5 = mlg.clip_backward %dyd, %yd {max = 1.0 : f64} : tensor<5xf64>
  // CHECK: mlg.clip_backward %{{[^ ]+}}, %{{[^ ]+}} : tensor<5xf64>
  %6 = mlg.clip_backward %dyd, %yd : tensor<5xf64>
  return
}

// A reversed strided slice, a slice of an integer tensor, reflect and edge
// padding, a negative (cropping) pad, and gathers along axis 0 and 1.
// CHECK-LABEL: func @layout
func.func @layout(%dy: tensor<2x5xf32>, %di: tensor<1x3xi64>, %dp: tensor<2x9xf32>, %dc: tensor<3x4xf32>,
                  %dg: tensor<3x2x6xf32>, %ids: tensor<3x2xi64>, %dg1: tensor<4x3x5xf32>, %ids1: tensor<3xi32>) {
  // CHECK: mlg.slice_backward %{{.*}} {ends = array<i64: 2, -1>, starts = array<i64: 0, 9>, steps = array<i64: 1, -2>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  %0 = mlg.slice_backward %dy {ends = array<i64: 2, -1>, starts = array<i64: 0, 9>, steps = array<i64: 1, -2>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  // CHECK: mlg.slice_backward %{{.*}} {ends = array<i64: 2, 7>, starts = array<i64: 1, 1>, steps = array<i64: 1, 2>} : (tensor<1x3xi64>) -> tensor<4x8xi64>
  %1 = mlg.slice_backward %di {ends = array<i64: 2, 7>, starts = array<i64: 1, 1>, steps = array<i64: 1, 2>} : (tensor<1x3xi64>) -> tensor<4x8xi64>
  // CHECK: mlg.pad_backward %{{.*}} {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<2x9xf32>) -> tensor<2x5xf32>
  %2 = mlg.pad_backward %dp {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<2x9xf32>) -> tensor<2x5xf32>
  // CHECK: mlg.pad_backward %{{.*}} {mode = #mlg<pad_mode edge>, pads = array<i64: 1, 0, 0, 4>} : (tensor<2x9xf32>) -> tensor<1x5xf32>
  %3 = mlg.pad_backward %dp {mode = #mlg<pad_mode edge>, pads = array<i64: 1, 0, 0, 4>} : (tensor<2x9xf32>) -> tensor<1x5xf32>
  // CHECK: mlg.pad_backward %{{.*}} {mode = #mlg<pad_mode edge>, pads = array<i64: -1, 1, 0, -3>} : (tensor<3x4xf32>) -> tensor<4x6xf32>
  %4 = mlg.pad_backward %dc {mode = #mlg<pad_mode edge>, pads = array<i64: -1, 1, 0, -3>} : (tensor<3x4xf32>) -> tensor<4x6xf32>
  // CHECK: mlg.gather_backward %{{.*}}, %{{.*}} {axis = 0 : i64} : (tensor<3x2x6xf32>, tensor<3x2xi64>) -> tensor<10x6xf32>
  %5 = mlg.gather_backward %dg, %ids {axis = 0 : i64} : (tensor<3x2x6xf32>, tensor<3x2xi64>) -> tensor<10x6xf32>
  // CHECK: mlg.gather_backward %{{.*}}, %{{.*}} {axis = 1 : i64} : (tensor<4x3x5xf32>, tensor<3xi32>) -> tensor<4x7x5xf32>
  %6 = mlg.gather_backward %dg1, %ids1 {axis = 1 : i64} : (tensor<4x3x5xf32>, tensor<3xi32>) -> tensor<4x7x5xf32>
  return
}

// One LSTM step with batch 2, input 3 and hidden 4: the first step (no
// state), a step with every optional operand and clip, and one with only a
// previous hidden state.
// CHECK-LABEL: func @lstm_cell
func.func @lstm_cell(%x: tensor<2x3xf32>, %h0: tensor<2x4xf32>, %c0: tensor<2x4xf32>,
                     %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %b: tensor<32xf32>, %p: tensor<12xf32>) {
  // CHECK: %[[H1:[a-z0-9_]+]], %[[C1:[a-z0-9_]+]], %{{[^ ]+}} = mlg.lstm_cell %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %h1, %c1, %g1 = mlg.lstm_cell %x weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  // CHECK: mlg.lstm_cell %{{[^ ]+}} h_prev %[[H1]] c_prev %[[C1]] weights %{{[^ ]+}}, %{{[^ ]+}} bias %{{[^ ]+}} peepholes %{{[^ ]+}} {clip = 3.000000e+00 : f64, input_forget = true} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>, tensor<12xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %h2, %c2, %g2 = mlg.lstm_cell %x h_prev %h1 c_prev %c1 weights %w, %r bias %b peepholes %p {clip = 3.0 : f64, input_forget = true} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>, tensor<12xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  // CHECK: mlg.lstm_cell %{{[^ ]+}} h_prev %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} bias %{{[^ ]+}} {input_forget = false} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %h3, %c3, %g3 = mlg.lstm_cell %x h_prev %h0 weights %w, %r bias %b {input_forget = false} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// The backward of each of the cells above: every gradient (with dB and dP),
// the first step's (no dh_prev, dc_prev or dR; only dh flows in), and a step
// with h_prev only (dh_prev and dR, no dc_prev; only dc flows in). The
// printed result names show which segments resultSegmentSizes gave.
// CHECK-LABEL: func @lstm_cell_backward
func.func @lstm_cell_backward(%dh: tensor<2x4xf32>, %dc: tensor<2x4xf32>, %x: tensor<2x3xf32>,
                              %h0: tensor<2x4xf32>, %c0: tensor<2x4xf32>, %c: tensor<2x4xf32>,
                              %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>,
                              %p: tensor<12xf32>) {
  // CHECK: %dx{{[_0-9]*}}, %dh_prev{{[_0-9]*}}, %dc_prev{{[_0-9]*}}, %dW{{[_0-9]*}}, %dR{{[_0-9]*}}, %dB{{[_0-9]*}}, %dP{{[_0-9]*}} = mlg.lstm_cell_backward dh %{{[^ ]+}} dc %{{[^ ]+}} x %{{[^ ]+}} h_prev %{{[^ ]+}} c_prev %{{[^ ]+}} c %{{[^ ]+}} gates %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} peepholes %{{[^ ]+}} {clip = 3.000000e+00 : f64, input_forget = true, resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<12xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>, tensor<12xf32>)
  %0:7 = mlg.lstm_cell_backward dh %dh dc %dc x %x h_prev %h0 c_prev %c0 c %c gates %gates weights %w, %r peepholes %p {clip = 3.0 : f64, input_forget = true, resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 1>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<12xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>, tensor<12xf32>)
  // CHECK: %dx{{[_0-9]*}}, %dW{{[_0-9]*}} = mlg.lstm_cell_backward dh %{{[^ ]+}} x %{{[^ ]+}} c %{{[^ ]+}} gates %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  %1:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  // CHECK: %dx{{[_0-9]*}}, %dh_prev{{[_0-9]*}}, %dW{{[_0-9]*}}, %dR{{[_0-9]*}}, %dB{{[_0-9]*}} = mlg.lstm_cell_backward dc %{{[^ ]+}} x %{{[^ ]+}} h_prev %{{[^ ]+}} c %{{[^ ]+}} gates %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>)
  %2:5 = mlg.lstm_cell_backward dc %dc x %x h_prev %h0 c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>)
  // CHECK: mlg.lstm_cell_backward dc %{{[^ ]+}} x %{{[^ ]+}} h_prev %{{[^ ]+}} c %{{[^ ]+}} gates %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} accumulate_w %{{[^ ]+}} accumulate_r %{{[^ ]+}} accumulate_b %{{[^ ]+}} {input_forget = false
  %3:5 = mlg.lstm_cell_backward dc %dc x %x h_prev %h0 c %c gates %gates weights %w, %r accumulate_w %2#2 accumulate_r %2#3 accumulate_b %2#4 {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 0, 1, 1, 1, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<32xf32>)
  // A projected cell's backward: no x, dx is [N, 4H], no dW.
  // CHECK: %dx{{[_0-9]*}}, %dh_prev{{[_0-9]*}}, %dR{{[_0-9]*}} = mlg.lstm_cell_backward dh %{{[^ ]+}} h_prev %{{[^ ]+}} c %{{[^ ]+}} gates %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 0, 0, 1, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x16xf32>, tensor<2x4xf32>, tensor<16x4xf32>)
  %4:3 = mlg.lstm_cell_backward dh %dh h_prev %h0 c %c gates %gates weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 1, 0, 0, 1, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x16xf32>, tensor<2x4xf32>, tensor<16x4xf32>)
  return
}

// A projected cell: x is the step's rows of x W^T, [N, 4H].
// CHECK-LABEL: func @lstm_cell_projected
func.func @lstm_cell_projected(%xw: tensor<2x16xf32>, %h0: tensor<2x4xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // CHECK: mlg.lstm_cell %{{[^ ]+}} h_prev %{{[^ ]+}} weights %{{[^ ]+}}, %{{[^ ]+}} {input_forget = false, projected} : (tensor<2x16xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  %h, %c, %g = mlg.lstm_cell %xw h_prev %h0 weights %w, %r {input_forget = false, projected} : (tensor<2x16xf32>, tensor<2x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// Time steps in and out of a sequence: one leading dimension, two (time,
// direction), and a single piece.
// CHECK-LABEL: func @stack_unstack
func.func @stack_unstack(%seq: tensor<3x2x4xf32>, %h0: tensor<2x4xf32>, %h1: tensor<2x4xf32>,
                         %h2: tensor<2x4xf32>, %h3: tensor<2x4xf32>, %i: tensor<1x5xi64>) {
  // CHECK: mlg.unstack %{{.*}} : (tensor<3x2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  %0:3 = mlg.unstack %seq : (tensor<3x2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  // CHECK: mlg.stack %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2x2x4xf32>
  %1 = mlg.stack %h0, %h1, %h2, %h3 : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2x2x4xf32>
  // CHECK: mlg.unstack %{{.*}} : (tensor<2x2x2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  %2:4 = mlg.unstack %1 : (tensor<2x2x2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  // CHECK: mlg.stack %{{.*}} : (tensor<1x5xi64>) -> tensor<1x1x5xi64>
  %3 = mlg.stack %i : (tensor<1x5xi64>) -> tensor<1x1x5xi64>
  // CHECK: mlg.unstack %{{.*}} : (tensor<1x5xi64>) -> tensor<5xi64>
  %4 = mlg.unstack %i : (tensor<1x5xi64>) -> tensor<5xi64>
  return
}
