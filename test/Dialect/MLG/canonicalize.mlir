// RUN: mlg-opt %s --canonicalize --split-input-file | FileCheck %s

// Shape arithmetic folds to constants once shapes are static, and ops that do
// nothing fold away.

// PyTorch's attention export computes a reshape target from the input's
// shape: Shape -> Gather -> Div -> Unsqueeze (a reshape) -> Concat. All of it
// is constant.
// CHECK-LABEL: func @attention_shape
// CHECK-NEXT: %[[C:.*]] = mlg.constant dense<[32, 512, 12, 64]> : tensor<4xi64>
// CHECK-NEXT: return %[[C]]
func.func @attention_shape(%x: tensor<32x512x768xf32>) -> tensor<4xi64> {
  %shape = mlg.shape %x {start = 0 : i64, end = 3 : i64} : tensor<32x512x768xf32> -> tensor<3xi64>
  %i0 = mlg.constant dense<0> : tensor<i64>
  %i1 = mlg.constant dense<1> : tensor<i64>
  %i2 = mlg.constant dense<2> : tensor<i64>
  %heads = mlg.constant dense<12> : tensor<i64>
  %b = mlg.gather %shape, %i0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = mlg.gather %shape, %i1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %e = mlg.gather %shape, %i2 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %d = mlg.div %e, %heads : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %b1 = mlg.reshape %b : tensor<i64> to tensor<1xi64>
  %s1 = mlg.reshape %s : tensor<i64> to tensor<1xi64>
  %h1 = mlg.reshape %heads : tensor<i64> to tensor<1xi64>
  %d1 = mlg.reshape %d : tensor<i64> to tensor<1xi64>
  %target = mlg.concat %b1, %s1, %h1, %d1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  return %target : tensor<4xi64>
}

// -----

// A shape slice folds, whatever the element type of the tensor.
// CHECK-LABEL: func @shape_slice
// CHECK: mlg.constant dense<[3, 4]> : tensor<2xi64>
func.func @shape_slice(%x: tensor<2x3x4xi1>) -> tensor<2xi64> {
  %0 = mlg.shape %x {start = 1 : i64, end = 3 : i64} : tensor<2x3x4xi1> -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Gather with negative indices counts from the end; along an inner axis it
// picks columns.
// CHECK-LABEL: func @gather
// CHECK: mlg.constant dense<{{\[}}[3, 1], [6, 4]]> : tensor<2x2xi64>
func.func @gather() -> tensor<2x2xi64> {
  %data = mlg.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %idx = mlg.constant dense<[-1, 0]> : tensor<2xi64>
  %0 = mlg.gather %data, %idx {axis = 1 : i64} : (tensor<2x3xi64>, tensor<2xi64>) -> tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}

// -----

// An out-of-range index is left for the runtime to report.
// CHECK-LABEL: func @gather_out_of_range
// CHECK: mlg.gather
func.func @gather_out_of_range() -> tensor<1xi64> {
  %data = mlg.constant dense<[1, 2, 3]> : tensor<3xi64>
  %idx = mlg.constant dense<[3]> : tensor<1xi64>
  %0 = mlg.gather %data, %idx {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

// Integer arithmetic folds with its signedness; division by zero does not fold.
// CHECK-LABEL: func @integer_arith
// CHECK-DAG: mlg.constant dense<[-3, 2]> : tensor<2xi64>
// CHECK-DAG: mlg.constant dense<[127, 1]> : tensor<2xui8>
// CHECK-DAG: mlg.constant dense<[1, -1]> : tensor<2xi64>
// CHECK: mlg.div
func.func @integer_arith() -> (tensor<2xi64>, tensor<2xui8>, tensor<2xi64>, tensor<2xi64>) {
  %a = mlg.constant dense<[-7, 5]> : tensor<2xi64>
  %b = mlg.constant dense<2> : tensor<i64>
  %0 = mlg.div %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  %u = mlg.constant dense<[254, 3]> : tensor<2xui8>
  %v = mlg.constant dense<2> : tensor<ui8>
  %1 = mlg.div %u, %v : (tensor<2xui8>, tensor<ui8>) -> tensor<2xui8>
  %m = mlg.constant dense<[-7, 5]> : tensor<2xi64>
  %n = mlg.constant dense<[2, -3]> : tensor<2xi64>
  %2 = mlg.mod %m, %n {fmod = false} : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %z = mlg.constant dense<0> : tensor<i64>
  %3 = mlg.div %a, %z : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  return %0, %1, %2, %3 : tensor<2xi64>, tensor<2xui8>, tensor<2xi64>, tensor<2xi64>
}

// -----

// Floats fold at their own precision; comparisons give booleans.
// CHECK-LABEL: func @float_fold
// CHECK-DAG: mlg.constant dense<[2.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK-DAG: mlg.constant dense<[true, false]> : tensor<2xi1>
// CHECK-DAG: mlg.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf16>
func.func @float_fold() -> (tensor<2xf32>, tensor<2xi1>, tensor<2xf16>) {
  %a = mlg.constant dense<[4.0, 9.0]> : tensor<2xf32>
  %0 = mlg.sqrt %a : tensor<2xf32>
  %b = mlg.constant dense<5.0> : tensor<f32>
  %1 = mlg.less %a, %b : (tensor<2xf32>, tensor<f32>) -> tensor<2xi1>
  %c = mlg.constant dense<[1.0, 2.0]> : tensor<2xf16>
  %d = mlg.constant dense<2.0> : tensor<f16>
  %2 = mlg.div %c, %d : (tensor<2xf16>, tensor<f16>) -> tensor<2xf16>
  return %0, %1, %2 : tensor<2xf32>, tensor<2xi1>, tensor<2xf16>
}

// -----

// Casts follow ONNX: floats truncate toward zero, anything to bool is != 0,
// unsigned values zero-extend.
// CHECK-LABEL: func @cast
// CHECK-DAG: mlg.constant dense<[-2, 2, 0]> : tensor<3xi64>
// CHECK-DAG: mlg.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: mlg.constant dense<[2.550000e+02, 1.000000e+00]> : tensor<2xf32>
func.func @cast() -> (tensor<3xi64>, tensor<3xi1>, tensor<2xf32>) {
  %a = mlg.constant dense<[-2.7, 2.9, 0.0]> : tensor<3xf32>
  %0 = mlg.cast %a : tensor<3xf32> to tensor<3xi64>
  %1 = mlg.cast %a : tensor<3xf32> to tensor<3xi1>
  %u = mlg.constant dense<[255, 1]> : tensor<2xui8>
  %2 = mlg.cast %u : tensor<2xui8> to tensor<2xf32>
  return %0, %1, %2 : tensor<3xi64>, tensor<3xi1>, tensor<2xf32>
}

// -----

// A cast to its own type, an identity transpose and a reshape to the same
// type are no-ops; reshape of reshape is one reshape.
// CHECK-LABEL: func @no_ops
// CHECK-SAME: (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT: %[[R:.*]] = mlg.reshape %[[X]] : tensor<2x3xf32> to tensor<6xf32>
// CHECK-NEXT: return %[[X]], %[[R]]
func.func @no_ops(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<6xf32>) {
  %0 = mlg.cast %x : tensor<2x3xf32> to tensor<2x3xf32>
  %1 = mlg.transpose %0 {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = mlg.reshape %1 : tensor<2x3xf32> to tensor<2x3xf32>
  %3 = mlg.reshape %2 : tensor<2x3xf32> to tensor<3x2xf32>
  %4 = mlg.reshape %3 : tensor<3x2xf32> to tensor<6xf32>
  return %2, %4 : tensor<2x3xf32>, tensor<6xf32>
}

// -----

// Transposes, slices (also with negative steps) and concats of constants fold.
// CHECK-LABEL: func @data_movement
// CHECK-DAG: mlg.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-DAG: mlg.constant dense<[6, 4]> : tensor<2xi64>
// CHECK-DAG: mlg.constant dense<[1, 2, 3, 7]> : tensor<4xi64>
func.func @data_movement() -> (tensor<3x2xi64>, tensor<2xi64>, tensor<4xi64>) {
  %a = mlg.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %0 = mlg.transpose %a {perm = array<i64: 1, 0>} : (tensor<2x3xi64>) -> tensor<3x2xi64>
  %flat = mlg.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %1 = mlg.slice %flat {starts = array<i64: 5>, ends = array<i64: 2>, steps = array<i64: -2>} : (tensor<6xi64>) -> tensor<2xi64>
  %head = mlg.constant dense<[1, 2, 3]> : tensor<3xi64>
  %tail = mlg.constant dense<7> : tensor<1xi64>
  %2 = mlg.concat %head, %tail {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<4xi64>
  return %0, %1, %2 : tensor<3x2xi64>, tensor<2xi64>, tensor<4xi64>
}

// -----

// Dropout outside training is the identity, with an all-true mask.
// CHECK-LABEL: func @dropout_inference
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[M:.*]] = mlg.constant dense<true> : tensor<4xi1>
// CHECK: return %[[X]], %[[M]]
func.func @dropout_inference(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>) {
  %0:2 = mlg.dropout %x {ratio = 0.5 : f64, training = false, seed = 1 : i64} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0#0, %0#1 : tensor<4xf32>, tensor<4xi1>
}

// -----

// Dropout in training stays.
// CHECK-LABEL: func @dropout_training
// CHECK: mlg.dropout
func.func @dropout_training(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0:2 = mlg.dropout %x {ratio = 0.5 : f64, training = true, seed = 1 : i64} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xi1>)
  return %0#0 : tensor<4xf32>
}

// -----

// A splat expands to a splat; where with a constant condition picks a side.
// CHECK-LABEL: func @splats
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[Y:.*]]: tensor<3xf32>)
// CHECK: %[[E:.*]] = mlg.constant dense<1.500000e+00> : tensor<2x3xf32>
// CHECK: return %[[E]], %[[Y]]
func.func @splats(%x: tensor<3xf32>, %y: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<3xf32>) {
  %c = mlg.constant dense<1.5> : tensor<1xf32>
  %0 = mlg.expand %c : tensor<1xf32> to tensor<2x3xf32>
  %f = mlg.constant dense<false> : tensor<3xi1>
  %1 = mlg.where %f, %x, %y : (tensor<3xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<3xf32>
}
