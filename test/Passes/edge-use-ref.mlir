// RUN: mlg-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(test-mlg-edge-use-ref))' -o /dev/null | FileCheck %s

// A chain: each elementwise op works in place on the operand that dies at
// it, a view (reshape) aliases its operand, and the whole chain shares one
// buffer. The terminator is the last step. The peak is the broadcast, with its 16-byte argument still live.
// CHECK-LABEL: edge-use-ref @chain: 6 steps, LOAD 80 bytes at step 0 (mlg.expand)
// CHECK-NEXT: value argument 0: input, 16 bytes, steps [0, 0], refs 1, buffer 0
// CHECK-NEXT: value mlg.expand: result, 64 bytes, steps [0, 1], refs 1, buffer 1
// CHECK-NEXT: value mlg.exp: in-place, 64 bytes, steps [1, 3], refs 1, buffer 1
// CHECK-NEXT: value mlg.reshape: view, 64 bytes, steps [2, 3], refs 1, buffer 1
// CHECK-NEXT: value mlg.relu: in-place, 64 bytes, steps [3, 4], refs 1, buffer 1
// CHECK-NEXT: value mlg.neg: in-place, 64 bytes, steps [4, 5], refs 1, buffer 1
// CHECK-NEXT: buffer 0: 16 bytes, steps [0, 0], 1 value(s)
// CHECK-NEXT: buffer 1: 64 bytes, steps [0, 5], 5 value(s)
// CHECK-NEXT: live at the peak: 1 (64) 0 (16)
func.func @chain(%x: tensor<4xf32>) -> tensor<16xf32> {
  %b = mlg.expand %x : tensor<4xf32> to tensor<4x4xf32>
  %0 = mlg.exp %b : tensor<4x4xf32>
  %1 = mlg.reshape %0 : tensor<4x4xf32> to tensor<16xf32>
  %2 = mlg.relu %1 : tensor<16xf32>
  %3 = mlg.neg %2 : tensor<16xf32>
  return %3 : tensor<16xf32>
}

// -----

// An operand read after the op is not overwritten, and a function argument
// never is. Parameters and constants are outside the arena and counted
// apart.
// CHECK-LABEL: edge-use-ref @no_in_place: 6 steps, LOAD 48 bytes at step 3 (mlg.mul)
// CHECK-NEXT: value argument 0: input, 16 bytes, steps [0, 3], refs 2, buffer 0
// CHECK-NEXT: value ml_program.global_load: parameter, 16 bytes, steps [0, 2], refs 1
// CHECK-NEXT: value mlg.constant: constant, 16 bytes, steps [1, 1], refs 0
// CHECK-NEXT: value mlg.add: result, 16 bytes, steps [2, 4], refs 2, buffer 1
// CHECK-NEXT: value mlg.mul: result, 16 bytes, steps [3, 4], refs 1, buffer 2
// CHECK-NEXT: value mlg.sub: in-place, 16 bytes, steps [4, 5], refs 1, buffer 1
// CHECK: parameters 16 bytes, constants 16 bytes, inputs 16 bytes
ml_program.global private mutable @w(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
func.func @no_in_place(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = ml_program.global_load @w : tensor<4xf32>
  %c = mlg.constant dense<1.0> : tensor<4xf32>
  %0 = mlg.add %x, %w : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = mlg.mul %0, %x : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = mlg.sub %0, %1 : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// An operand of another shape is not overwritten even when it dies and has
// the result's size (a [C] batch-norm parameter against a [1, C] input must
// not be): only an operand of the result's shape is.
// CHECK-LABEL: edge-use-ref @other_shape
// CHECK: value mlg.add: result, 16 bytes, steps [2, 3], refs 1, buffer 4
func.func @other_shape(%x: tensor<4xf32>, %y: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = mlg.exp %x : tensor<4xf32>
  %b = mlg.exp %y : tensor<1x4xf32>
  %0 = mlg.add %a, %b : (tensor<4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  %1 = mlg.mul %0, %b : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  return %1 : tensor<1x4xf32>
}

// -----

// A convolution's workspace (its im2col buffer: 1*3*3 rows by 2*2 columns of
// f32) is live during its own step only; an unused result (the dropout
// mask) lives at its op.
// CHECK-LABEL: edge-use-ref @workspace: 3 steps, LOAD 260 bytes at step 0 (mlg.conv)
// CHECK: value mlg.conv: result, 16 bytes, steps [0, 1], refs 1, buffer 2
// CHECK-NEXT: value mlg.dropout #0: in-place, 16 bytes, steps [1, 2], refs 1, buffer 2
// CHECK-NEXT: value mlg.dropout #1: result, 4 bytes, steps [1, 1], refs 0, buffer 4
// CHECK: buffer 3: 144 bytes, steps [0, 0], workspace of mlg.conv
// CHECK: live at the peak: 3 (144) 0 (64) 1 (36) 2 (16)
func.func @workspace(%x: tensor<1x1x4x4xf32>, %w: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %0 = mlg.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  %1:2 = mlg.dropout %0 {ratio = 0.5 : f64, training = true, seed = 1 : i64} : (tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xi1>)
  return %1#0 : tensor<1x1x2x2xf32>
}

// -----

// The cross-entropy gradient is written over the logits when they die
// there: a language model's logits are its largest tensor.
// CHECK-LABEL: edge-use-ref @cross_entropy_in_place
// CHECK: value mlg.softmax_cross_entropy_backward: in-place, 32 bytes, steps [3, 4], refs 1, buffer 2
func.func @cross_entropy_in_place(%logits: tensor<2x4xf32>, %labels: tensor<2xi64>) -> tensor<2x4xf32> {
  %l = mlg.neg %logits : tensor<2x4xf32>
  %loss = mlg.softmax_cross_entropy %l, %labels : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  %one = mlg.constant dense<1.0> : tensor<f32>
  %d = mlg.softmax_cross_entropy_backward %one, %l, %labels : (tensor<f32>, tensor<2x4xf32>, tensor<2xi64>) -> tensor<2x4xf32>
  return %d : tensor<2x4xf32>
}
