// RUN: mlg-opt %s --split-input-file --verify-diagnostics

// Backward ops and the LSTM's training form (lstm_cell, lstm_cell_backward,
// stack, unstack) whose gradients disagree with the forward values, shapes
// or attributes they stand for. Ops whose result types are inferred report
// the inference's diagnostic and then "failed to infer returned types".

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

// An input gradient of the wrong spatial size: a stride-2 convolution of
// 6x6 gives 3x3, not the output gradient's 4x4.
func.func @conv_data_size(%dy: tensor<2x6x4x4xf32>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+1 {{a convolution of 'tensor<2x4x6x6xf32>' with 'tensor<6x4x3x3xf32>' gives [2, 6, 3, 3], not the output gradient's 'tensor<2x6x4x4xf32>'}}
  %0 = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x4x3x3xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

// The weight holds 2 channels per filter: that takes group 2, not 1.
func.func @conv_data_group(%dy: tensor<2x6x4x4xf32>, %w: tensor<6x2x3x3xf32>) {
  // expected-error @+1 {{group 1 must divide the 4 input channels and the 6 filters, and the weight must hold channels / group of them, got 'tensor<6x2x3x3xf32>'}}
  %0 = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<6x2x3x3xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

func.func @conv_data_element(%dy: tensor<2x6x4x4xf16>, %w: tensor<6x4x3x3xf32>) {
  // expected-error @+1 {{the gradients, input and weight must have one element type}}
  %0 = mlg.conv_backward_data %dy, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf16>, tensor<6x4x3x3xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

// A weight gradient with 5 filters where the output gradient has 6.
func.func @conv_filter_count(%dy: tensor<2x6x4x4xf32>, %x: tensor<2x4x8x8xf32>) {
  // expected-error @+1 {{a convolution of 'tensor<2x4x8x8xf32>' with 'tensor<5x4x3x3xf32>' gives [2, 5, 4, 4], not the output gradient's 'tensor<2x6x4x4xf32>'}}
  %0 = mlg.conv_backward_filter %dy, %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<5x4x3x3xf32>
  return
}

// -----

func.func @conv_filter_rank(%dy: tensor<2x6x4x4xf32>, %x: tensor<2x4x8x8xf32>) {
  // expected-error @+1 {{the input 'tensor<2x4x8x8xf32>', weight 'tensor<6x4x9xf32>' and output gradient 'tensor<2x6x4x4xf32>' must be [N, C, spatial...] tensors of one rank}}
  %0 = mlg.conv_backward_filter %dy, %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x4x9xf32>
  return
}

// -----

func.func @conv_filter_pads(%dy: tensor<2x6x4x4xf32>, %x: tensor<2x4x8x8xf32>) {
  // expected-error @+1 {{tensors of rank 4 need 2 kernel sizes, strides and dilations and 4 pads}}
  %0 = mlg.conv_backward_filter %dy, %x {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x6x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<6x4x3x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// 3x3 / 2 pooling with pads 1 of 8x8 gives 4x4, not 3x3.
func.func @max_pool_grad_shape(%dy: tensor<2x4x3x3xf32>, %x: tensor<2x4x8x8xf32>) {
  // expected-error @+2 {{pooling 'tensor<2x4x8x8xf32>' gives [2, 4, 4, 4], not the output gradient's 'tensor<2x4x3x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.max_pool_backward %dy, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x3x3xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

// The input gradient has the forward input's type.
func.func @max_pool_result(%dy: tensor<2x4x4x4xf32>, %x: tensor<2x4x8x8xf32>) {
  // expected-error @+2 {{'mlg.max_pool_backward' op inferred type(s) 'tensor<2x4x8x8xf32>' are incompatible with return type(s) of operation 'tensor<2x4x4x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.max_pool_backward %dy, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  return
}

// -----

func.func @max_pool_window(%dy: tensor<2x4x1x1xf32>, %x: tensor<2x4x2x2xf32>) {
  // expected-error @+2 {{spatial dimension 0 of size 2 (padded by 0 and 0) cannot hold a window of size 3 with dilation 1 and stride 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.max_pool_backward %dy, %x {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x4x1x1xf32>, tensor<2x4x2x2xf32>) -> tensor<2x4x2x2xf32>
  return
}

// -----

// 2x2 / 2 pooling of the declared 6x6 input gives 3x3, not 4x4.
func.func @avg_pool_input_shape(%dy: tensor<2x4x4x4xf32>) {
  // expected-error @+1 {{pooling 'tensor<2x4x6x6xf32>' gives [2, 4, 3, 3], not the output gradient's 'tensor<2x4x4x4xf32>'}}
  %0 = mlg.average_pool_backward %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x6x6xf32>
  return
}

// -----

func.func @avg_pool_element(%dy: tensor<2x4x4x4xf32>) {
  // expected-error @+1 {{the input 'tensor<2x4x8x8xf16>' and the output gradient 'tensor<2x4x4x4xf32>' must have one element type}}
  %0 = mlg.average_pool_backward %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>) -> tensor<2x4x8x8xf16>
  return
}

// -----

func.func @avg_pool_rank(%dy: tensor<2x4xf32>) {
  // expected-error @+1 {{the input must be [N, C, spatial...], got 'tensor<2x8xf32>'}}
  %0 = mlg.average_pool_backward %dy {ceil_mode = false, count_include_pad = false, dilations = array<i64: 1>, kernel_shape = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 2>} : (tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

func.func @batch_norm_mean_only(%dy: tensor<2x4x3x3xf32>, %x: tensor<2x4x3x3xf32>, %s: tensor<4xf32>, %m: tensor<4xf32>) {
  // expected-error @+2 {{takes both mean and var (inference form) or neither (training form)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mlg.batch_norm_backward %dy, %x, %s mean %m {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

func.func @batch_norm_var_channels(%dy: tensor<2x4x3x3xf32>, %x: tensor<2x4x3x3xf32>, %s: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<3xf32>) {
  // expected-error @+2 {{scale, mean and var must be [4], got 'tensor<3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mlg.batch_norm_backward %dy, %x, %s mean %m var %v {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// The output gradient must have the forward input's type.
func.func @batch_norm_grad_type(%dy: tensor<2x4x3x3xf16>, %x: tensor<2x4x3x3xf32>, %s: tensor<4xf32>) {
  // expected-error @+2 {{the output gradient and the input must be [N, C, ...] tensors of one type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mlg.batch_norm_backward %dy, %x, %s {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf16>, tensor<2x4x3x3xf32>, tensor<4xf32>) -> (tensor<2x4x3x3xf16>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// The scale and bias gradients have the scale's type (here f16).
func.func @batch_norm_scale_grad_type(%dy: tensor<2x4x3x3xf32>, %x: tensor<2x4x3x3xf32>, %s: tensor<4xf16>) {
  // expected-error @+2 {{'mlg.batch_norm_backward' op inferred type(s) 'tensor<2x4x3x3xf32>', 'tensor<4xf16>', 'tensor<4xf16>' are incompatible with return type(s) of operation 'tensor<2x4x3x3xf32>', 'tensor<4xf32>', 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:3 = mlg.batch_norm_backward %dy, %x, %s {epsilon = 1.0e-05 : f64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xf32>, tensor<4xf16>) -> (tensor<2x4x3x3xf32>, tensor<4xf32>, tensor<4xf32>)
  return
}

// -----

// Statistics over axis 2 on are [2, 5, 1]; these were kept as for axis 1.
func.func @layer_norm_stats(%dy: tensor<2x5x8xf32>, %x: tensor<2x5x8xf32>, %g: tensor<8xf32>, %mean: tensor<2x1x1xf32>, %rstd: tensor<2x1x1xf32>) {
  // expected-error @+2 {{mean and inv_std_dev must be 'tensor<2x5x1xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mlg.layer_norm_backward %dy, %x, %g, %mean, %rstd {axis = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func @layer_norm_scale(%dy: tensor<2x5x8xf32>, %x: tensor<2x5x8xf32>, %g: tensor<5xf32>, %mean: tensor<2x5x1xf32>, %rstd: tensor<2x5x1xf32>) {
  // expected-error @+2 {{the scale must broadcast to the normalized shape of 'tensor<2x5x8xf32>' from axis 2 and share its type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mlg.layer_norm_backward %dy, %x, %g, %mean, %rstd {axis = 2 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<5xf32>, tensor<2x5x1xf32>, tensor<2x5x1xf32>) -> (tensor<2x5x8xf32>, tensor<5xf32>)
  return
}

// -----

func.func @layer_norm_axis(%dy: tensor<2x5x8xf32>, %x: tensor<2x5x8xf32>, %g: tensor<8xf32>, %mean: tensor<2x5x1xf32>, %rstd: tensor<2x5x1xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0:2 = mlg.layer_norm_backward %dy, %x, %g, %mean, %rstd {axis = 3 : i64} : (tensor<2x5x8xf32>, tensor<2x5x8xf32>, tensor<8xf32>, tensor<2x5x1xf32>, tensor<2x5x1xf32>) -> (tensor<2x5x8xf32>, tensor<8xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

func.func @softmax_types(%dy: tensor<2x3x10xf32>, %y: tensor<2x3x9xf32>) {
  // expected-error @+2 {{the output gradient and the output must be static tensors of one type}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.softmax_backward %dy, %y {axis = 2 : i64} : (tensor<2x3x10xf32>, tensor<2x3x9xf32>) -> tensor<2x3x10xf32>
  return
}

// -----

// The backward ops take the forward's normalized (non-negative) axis.
func.func @log_softmax_axis(%dy: tensor<2x3x10xf32>, %y: tensor<2x3x10xf32>) {
  // expected-error @+2 {{axis -1 is out of range for rank 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.log_softmax_backward %dy, %y {axis = -1 : i64} : (tensor<2x3x10xf32>, tensor<2x3x10xf32>) -> tensor<2x3x10xf32>
  return
}

// -----

func.func @dropout_mask_shape(%dy: tensor<2x3x10xf32>, %mask: tensor<2x3x1xi1>) {
  // expected-error @+2 {{the output gradient and the mask must be static tensors of one shape}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.dropout_backward %dy, %mask {ratio = 0.1 : f64} : (tensor<2x3x10xf32>, tensor<2x3x1xi1>) -> tensor<2x3x10xf32>
  return
}

// -----

func.func @dropout_ratio(%dy: tensor<2x3x10xf32>, %mask: tensor<2x3x10xi1>) {
  // expected-error @+2 {{ratio 1.000000e+00 must lie in [0, 1)}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mlg.dropout_backward %dy, %mask {ratio = 1.0 : f64} : (tensor<2x3x10xf32>, tensor<2x3x10xi1>) -> tensor<2x3x10xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

// The forward output must have the gradient's type (generic form: the
// custom form names one type).
func.func @relu_types(%dy: tensor<2x3xf32>, %y: tensor<2x4xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "mlg.relu_backward"(%dy, %y) : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @sigmoid_result(%dy: tensor<2x3xf32>, %y: tensor<2x3xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "mlg.sigmoid_backward"(%dy, %y) : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf16>
  return
}

// -----

func.func @tanh_integer(%dy: tensor<4xi32>, %y: tensor<4xi32>) {
  // expected-error @+1 {{operand #0 must be statically shaped tensor of floating-point values}}
  %0 = mlg.tanh_backward %dy, %y : tensor<4xi32>
  return
}

// -----

func.func @clip_types(%dy: tensor<2x3xf32>, %x: tensor<3x2xf32>) {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %0 = "mlg.clip_backward"(%dy, %x) <{max = 6.0 : f64, min = 0.0 : f64}> : (tensor<2x3xf32>, tensor<3x2xf32>) -> tensor<2x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

// A reversed slice of a dimension of size 10 starts at 9 at most.
func.func @slice_not_normalized(%dy: tensor<2x5xf32>) {
  // expected-error @+1 {{dimension 1 (size 10): start 10, end -1, step -2 are not normalized}}
  %0 = mlg.slice_backward %dy {ends = array<i64: 2, -1>, starts = array<i64: 0, 10>, steps = array<i64: 1, -2>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  return
}

// -----

// Every second element of [1, 9) is 4 elements, not dy's 5.
func.func @slice_length(%dy: tensor<2x5xf32>) {
  // expected-error @+1 {{dimension 1 of dy has size 5, the slice has 4}}
  %0 = mlg.slice_backward %dy {ends = array<i64: 2, 9>, starts = array<i64: 0, 1>, steps = array<i64: 1, 2>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  return
}

// -----

func.func @slice_step_zero(%dy: tensor<2x5xf32>) {
  // expected-error @+1 {{dimension 0 (size 2): start 0, end 2, step 0 are not normalized}}
  %0 = mlg.slice_backward %dy {ends = array<i64: 2, 5>, starts = array<i64: 0, 0>, steps = array<i64: 0, 1>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  return
}

// -----

func.func @slice_rank(%dy: tensor<2x5xf32>) {
  // expected-error @+1 {{dx, dy, starts, ends and steps need one rank (2)}}
  %0 = mlg.slice_backward %dy {ends = array<i64: 2>, starts = array<i64: 0>, steps = array<i64: 1>} : (tensor<2x5xf32>) -> tensor<2x10xf32>
  return
}

// -----

func.func @pad_size(%dy: tensor<2x8xf32>) {
  // expected-error @+1 {{padding dimension 1 of size 5 by 2 and 2 does not give dy's size 8}}
  %0 = mlg.pad_backward %dy {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<2x8xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @pad_reflect(%dy: tensor<2x6xf32>) {
  // expected-error @+1 {{reflect padding of dimension 1 must be smaller than its size 2}}
  %0 = mlg.pad_backward %dy {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 2, 0, 2>} : (tensor<2x6xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @pad_edge_empty(%dy: tensor<2x1xf32>) {
  // expected-error @+1 {{edge padding of the empty dimension 1}}
  %0 = mlg.pad_backward %dy {mode = #mlg<pad_mode edge>, pads = array<i64: 0, 1, 0, 0>} : (tensor<2x1xf32>) -> tensor<2x0xf32>
  return
}

// -----

func.func @pad_count(%dy: tensor<2x9xf32>) {
  // expected-error @+1 {{needs dx and dy of one rank and 2 * rank pads}}
  %0 = mlg.pad_backward %dy {mode = #mlg<pad_mode edge>, pads = array<i64: 2, 2>} : (tensor<2x9xf32>) -> tensor<2x5xf32>
  return
}

// -----

// Gathering rows of a [10, 6] table with [3, 2] indices gives [3, 2, 6].
func.func @gather_shape(%dy: tensor<3x2x5xf32>, %ids: tensor<3x2xi64>) {
  // expected-error @+1 {{dy has shape [3, 2, 5], gathering [10, 6] with these indices gives [3, 2, 6]}}
  %0 = mlg.gather_backward %dy, %ids {axis = 0 : i64} : (tensor<3x2x5xf32>, tensor<3x2xi64>) -> tensor<10x6xf32>
  return
}

// -----

func.func @gather_axis(%dy: tensor<3x2x6xf32>, %ids: tensor<3x2xi64>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = mlg.gather_backward %dy, %ids {axis = 2 : i64} : (tensor<3x2x6xf32>, tensor<3x2xi64>) -> tensor<10x6xf32>
  return
}

// -----

func.func @gather_element(%dy: tensor<3x2x6xf16>, %ids: tensor<3x2xi64>) {
  // expected-error @+1 {{dx and dy must have one element type}}
  %0 = mlg.gather_backward %dy, %ids {axis = 0 : i64} : (tensor<3x2x6xf16>, tensor<3x2xi64>) -> tensor<10x6xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// lstm_cell (batch 2, input 3, hidden 4 unless said otherwise)
//===----------------------------------------------------------------------===//

func.func @cell_r(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<15x4xf32>) {
  // expected-error @+2 {{R must be [4H, H] with H > 0, got 'tensor<15x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<15x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

// W of hidden size 3 with R of hidden size 4.
func.func @cell_w_hidden(%x: tensor<2x3xf32>, %w: tensor<12x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{W is 'tensor<12x3xf32>', expected shape [16, 3] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<12x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @cell_h_prev(%x: tensor<2x3xf32>, %h0: tensor<2x5xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{h_prev is 'tensor<2x5xf32>', expected shape [2, 4] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x h_prev %h0 weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<2x5xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

// A cell state of another batch than x.
func.func @cell_c_prev(%x: tensor<2x3xf32>, %c0: tensor<3x4xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{c_prev is 'tensor<3x4xf32>', expected shape [2, 4] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x c_prev %c0 weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

// One direction's bias is Wb then Rb: 8H = 32, not 4H.
func.func @cell_bias(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %b: tensor<16xf32>) {
  // expected-error @+2 {{B is 'tensor<16xf32>', expected shape [32] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r bias %b {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @cell_peepholes(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %p: tensor<12xf64>) {
  // expected-error @+2 {{P is 'tensor<12xf64>', expected shape [12] of 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r peepholes %p {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<12xf64>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @cell_clip(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{clip must be a non-negative number}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r {clip = -1.0 : f64, input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

// The gates are [N, 4H].
func.func @cell_gates_result(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{'mlg.lstm_cell' op inferred type(s) 'tensor<2x4xf32>', 'tensor<2x4xf32>', 'tensor<2x16xf32>' are incompatible with return type(s) of operation 'tensor<2x4xf32>', 'tensor<2x4xf32>', 'tensor<2x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r {input_forget = false} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// lstm_cell_backward
//===----------------------------------------------------------------------===//

// Neither dh nor dc: nothing to differentiate.
func.func @cell_bwd_no_gradient(%x: tensor<2x3xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op needs the gradient of h, of c, or of both}}
  %0:2 = mlg.lstm_cell_backward x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

// An accumulator has its result's type.
func.func @cell_bwd_accumulator_type(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %s: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op accumulate_w has type 'tensor<16x4xf32>', expected 'tensor<16x3xf32>'}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r accumulate_w %s {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

// Without h_prev there is no dR to accumulate into.
func.func @cell_bwd_accumulator_without_result(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>, %s: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op accumulate_r accumulates a result the op does not have}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r accumulate_r %s {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

// The forward had h_prev, so its gradient dh_prev must be returned.
func.func @cell_bwd_missing_dh_prev(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %h0: tensor<2x4xf32>, %c: tensor<2x4xf32>,
                                    %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op dh_prev is missing}}
  %0:3 = mlg.lstm_cell_backward dh %dh x %x h_prev %h0 c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 1, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>)
  return
}

// -----

// Without h_prev, R multiplied zeros and has no gradient.
func.func @cell_bwd_unexpected_dr(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                                  %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op dR is unexpected}}
  %0:3 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 1, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>)
  return
}

// -----

// No peepholes in the forward, so no dP.
func.func @cell_bwd_unexpected_dp(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                                  %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op dP is unexpected}}
  %0:3 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 1>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>, tensor<12xf32>)
  return
}

// -----

func.func @cell_bwd_dw_type(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                            %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{'mlg.lstm_cell_backward' op dW has type 'tensor<16x4xf32>', expected 'tensor<16x3xf32>'}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x4xf32>)
  return
}

// -----

// dB is [8H] like the bias it stands for.
func.func @cell_bwd_db(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                       %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{dB is 'tensor<16xf32>', expected shape [32] of 'f32'}}
  %0:3 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 1, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16xf32>)
  return
}

// -----

// The gates of a hidden size of 3, where c says 4.
func.func @cell_bwd_gates(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                          %gates: tensor<2x12xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{gates is 'tensor<2x12xf32>', expected shape [2, 16] of 'f32'}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x12xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

func.func @cell_bwd_dh(%dh: tensor<2x5xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                       %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{dh is 'tensor<2x5xf32>', expected shape [2, 4] of 'f32'}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x5xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

// x of batch 3 where c has batch 2.
func.func @cell_bwd_x_batch(%dh: tensor<2x4xf32>, %x: tensor<3x3xf32>, %c: tensor<2x4xf32>,
                            %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{x is 'tensor<3x3xf32>', expected shape [2, 3] of 'f32'}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<3x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<3x3xf32>, tensor<16x3xf32>)
  return
}

// -----

func.func @cell_bwd_clip(%dh: tensor<2x4xf32>, %x: tensor<2x3xf32>, %c: tensor<2x4xf32>,
                         %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{clip must be a non-negative number}}
  %0:2 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {clip = -3.0 : f64, input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x3xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}

// -----

//===----------------------------------------------------------------------===//
// stack and unstack
//===----------------------------------------------------------------------===//

// Three pieces cannot fill two leading slots.
func.func @stack_count(%a: tensor<2x4xf32>, %b: tensor<2x4xf32>, %c: tensor<2x4xf32>) {
  // expected-error @+1 {{the leading dimensions of 'tensor<2x2x4xf32>' index 2 pieces, there are 3}}
  %0 = mlg.stack %a, %b, %c : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x2x4xf32>
  return
}

// -----

func.func @stack_input_types(%a: tensor<2x4xf32>, %b: tensor<2x5xf32>) {
  // expected-error @+1 {{every input must have one type, got 'tensor<2x5xf32>' and 'tensor<2x4xf32>'}}
  %0 = mlg.stack %a, %b : (tensor<2x4xf32>, tensor<2x5xf32>) -> tensor<2x2x4xf32>
  return
}

// -----

func.func @stack_no_leading(%a: tensor<2x4xf32>) {
  // expected-error @+1 {{the stacked tensor 'tensor<2x4xf32>' must be the pieces' shape 'tensor<2x4xf32>' under at least one leading dimension}}
  %0 = mlg.stack %a : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @stack_empty() {
  // expected-error @+1 {{'mlg.stack' op needs at least one input}}
  %0 = mlg.stack : () -> tensor<0x4xf32>
  return
}

// -----

func.func @unstack_count(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{the leading dimensions of 'tensor<3x2x4xf32>' index 3 pieces, there are 2}}
  %0:2 = mlg.unstack %x : (tensor<3x2x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>)
  return
}

// -----

// Pieces of another shape than the trailing dimensions.
func.func @unstack_piece_shape(%x: tensor<3x2x4xf32>) {
  // expected-error @+1 {{the stacked tensor 'tensor<3x2x4xf32>' must be the pieces' shape 'tensor<4x2xf32>' under at least one leading dimension}}
  %0:3 = mlg.unstack %x : (tensor<3x2x4xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>)
  return
}

// -----

func.func @unstack_element(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{the stacked tensor 'tensor<2x4xf32>' must be the pieces' shape 'tensor<4xf16>' under at least one leading dimension}}
  %0:2 = mlg.unstack %x : (tensor<2x4xf32>) -> (tensor<4xf16>, tensor<4xf16>)
  return
}

// -----

func.func @unstack_result_types(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{every result must have one type, got 'tensor<4xi32>' and 'tensor<4xf32>'}}
  %0:2 = mlg.unstack %x : (tensor<2x4xf32>) -> (tensor<4xf32>, tensor<4xi32>)
  return
}

// -----

func.func @cell_projected_x(%x: tensor<2x3xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+2 {{a projected x must be [N, 4H] = [2, 16], got 'tensor<2x3xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %h, %c, %g = mlg.lstm_cell %x weights %w, %r {input_forget = false, projected} : (tensor<2x3xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>)
  return
}

// -----

func.func @backward_projected_x(%dh: tensor<2x4xf32>, %x: tensor<2x16xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{a projected cell's backward takes no x}}
  %0 = mlg.lstm_cell_backward dh %dh x %x c %c gates %gates weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 0, 0, 0, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x16xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @backward_projected_dw(%dh: tensor<2x4xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{a projected cell's backward has no dW}}
  %0:2 = mlg.lstm_cell_backward dh %dh c %c gates %gates weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x16xf32>, tensor<16x3xf32>)
  return
}

// -----

func.func @backward_projected_dx(%dh: tensor<2x4xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{dx is 'tensor<2x3xf32>', expected shape [2, 16] of 'f32'}}
  %0 = mlg.lstm_cell_backward dh %dh c %c gates %gates weights %w, %r {input_forget = false, projected, resultSegmentSizes = array<i32: 1, 0, 0, 0, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @backward_needs_x(%dh: tensor<2x4xf32>, %c: tensor<2x4xf32>, %gates: tensor<2x16xf32>, %w: tensor<16x3xf32>, %r: tensor<16x4xf32>) {
  // expected-error @+1 {{needs x unless the cell is projected}}
  %0:2 = mlg.lstm_cell_backward dh %dh c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<2x16xf32>, tensor<16x3xf32>, tensor<16x4xf32>) -> (tensor<2x3xf32>, tensor<16x3xf32>)
  return
}
