// RUN: mlg-opt %s | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --mlir-print-op-generic | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --emit-bytecode | mlg-opt | FileCheck %s

// Every mlg op prints in its custom form and parses back to the same IR, in
// text, generic and bytecode form.

// CHECK-LABEL: func @elementwise
func.func @elementwise(%x: tensor<2x3xf32>, %y: tensor<3xf32>, %i: tensor<2x3xi64>,
                       %b: tensor<2x3xi1>) {
  // CHECK: mlg.relu %{{.*}} : tensor<2x3xf32>
  %0 = mlg.relu %x : tensor<2x3xf32>
  // CHECK: mlg.sqrt
  %1 = mlg.sqrt %x : tensor<2x3xf32>
  // CHECK: mlg.neg %{{.*}} : tensor<2x3xi64>
  %2 = mlg.neg %i : tensor<2x3xi64>
  // CHECK: mlg.leaky_relu %{{.*}} {alpha = 1.000000e-01 : f64}
  %3 = mlg.leaky_relu %x {alpha = 0.1 : f64} : tensor<2x3xf32>
  // CHECK: mlg.clip %{{.*}} {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64}
  %4 = mlg.clip %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<2x3xf32>
  // CHECK: mlg.cast %{{.*}} : tensor<2x3xf32> to tensor<2x3xi64>
  %5 = mlg.cast %x : tensor<2x3xf32> to tensor<2x3xi64>
  // CHECK: mlg.add %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %6 = mlg.add %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mlg.pow %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  %7 = mlg.pow %x, %i : (tensor<2x3xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  // CHECK: mlg.less %{{.*}}, %{{.*}} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %8 = mlg.less %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: mlg.mod %{{.*}}, %{{.*}} {fmod = false}
  %9 = mlg.mod %i, %i {fmod = false} : (tensor<2x3xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  // CHECK: mlg.where %{{.*}}, %{{.*}}, %{{.*}} : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %10 = mlg.where %b, %x, %y : (tensor<2x3xi1>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: mlg.not %{{.*}} : tensor<2x3xi1>
  %11 = mlg.not %b : tensor<2x3xi1>
  return
}

// CHECK-LABEL: func @tensor_ops
func.func @tensor_ops(%x: tensor<2x3x4xf32>, %ids: tensor<5xi64>) {
  // CHECK: mlg.constant dense<[1, 2]> : tensor<2xi64>
  %c = mlg.constant dense<[1, 2]> : tensor<2xi64>
  // CHECK: mlg.shape %{{.*}} {end = 2 : i64, start = 1 : i64} : tensor<2x3x4xf32> -> tensor<1xi64>
  %s = mlg.shape %x {start = 1 : i64, end = 2 : i64} : tensor<2x3x4xf32> -> tensor<1xi64>
  // CHECK: mlg.reshape %{{.*}} : tensor<2x3x4xf32> to tensor<6x4xf32>
  %r = mlg.reshape %x : tensor<2x3x4xf32> to tensor<6x4xf32>
  // CHECK: mlg.transpose %{{.*}} {perm = array<i64: 2, 0, 1>}
  %t = mlg.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  // CHECK: mlg.concat %{{.*}}, %{{.*}} {axis = 1 : i64}
  %cc = mlg.concat %x, %x {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  // CHECK: mlg.split %{{.*}} {axis = 2 : i64, sizes = array<i64: 1, 3>}
  %a, %b = mlg.split %x {axis = 2 : i64, sizes = array<i64: 1, 3>} : (tensor<2x3x4xf32>) -> (tensor<2x3x1xf32>, tensor<2x3x3xf32>)
  // CHECK: mlg.slice %{{.*}} {ends = array<i64: 2, -1, 4>, starts = array<i64: 0, 2, 0>, steps = array<i64: 1, -1, 2>}
  %sl = mlg.slice %x {starts = array<i64: 0, 2, 0>, ends = array<i64: 2, -1, 4>, steps = array<i64: 1, -1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  // CHECK: mlg.gather %{{.*}}, %{{.*}} {axis = 2 : i64}
  %g = mlg.gather %x, %ids {axis = 2 : i64} : (tensor<2x3x4xf32>, tensor<5xi64>) -> tensor<2x3x5xf32>
  // CHECK: mlg.pad %{{.*}} {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 1, 1, 0, 1, 1>, value = 0.000000e+00 : f64}
  %p = mlg.pad %x {pads = array<i64: 0, 1, 1, 0, 1, 1>, mode = #mlg<pad_mode reflect>, value = 0.0 : f64} : (tensor<2x3x4xf32>) -> tensor<2x5x6xf32>
  // CHECK: mlg.expand %{{.*}} : tensor<2x3x4xf32> to tensor<5x2x3x4xf32>
  %e = mlg.expand %x : tensor<2x3x4xf32> to tensor<5x2x3x4xf32>
  // CHECK: mlg.tile %{{.*}} {repeats = array<i64: 1, 2, 1>}
  %tl = mlg.tile %x {repeats = array<i64: 1, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  return
}

// CHECK-LABEL: func @nn_ops
func.func @nn_ops(%x: tensor<2x4x8x8xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>,
                  %c: tensor<4xf32>, %m: tensor<8x16xf32>, %n: tensor<16x5xf32>) {
  // CHECK: mlg.conv %{{.*}}, %{{.*}}, %{{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
  %0 = mlg.conv %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<2x6x4x4xf32>
  // CHECK: mlg.conv %{{.*}}, %{{.*}} {
  %1 = mlg.conv %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 2>, group = 2 : i64} : (tensor<2x4x8x8xf32>, tensor<6x2x3x3xf32>) -> tensor<2x6x4x4xf32>
  // CHECK: mlg.max_pool
  %2 = mlg.max_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, ceil_mode = false} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: mlg.max_pool_with_indices
  %3, %4 = mlg.max_pool_with_indices %x {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = false, storage_order = 0 : i64} : (tensor<2x4x8x8xf32>) -> (tensor<2x4x4x4xf32>, tensor<2x4x4x4xi64>)
  // CHECK: mlg.average_pool
  %5 = mlg.average_pool %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, ceil_mode = true, count_include_pad = false} : (tensor<2x4x8x8xf32>) -> tensor<2x4x4x4xf32>
  // CHECK: mlg.global_average_pool %{{.*}} : (tensor<2x4x8x8xf32>) -> tensor<2x4x1x1xf32>
  %6 = mlg.global_average_pool %x : (tensor<2x4x8x8xf32>) -> tensor<2x4x1x1xf32>
  // CHECK: mlg.batch_norm
  %7:3 = mlg.batch_norm %x, %c, %c, %c, %c {epsilon = 1.0e-5 : f64, momentum = 0.9 : f64, training = true} : (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>)
  // CHECK: mlg.layer_norm
  %8:3 = mlg.layer_norm %m, %m {axis = 0 : i64, epsilon = 1.0e-5 : f64} : (tensor<8x16xf32>, tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<1x1xf32>, tensor<1x1xf32>)
  // CHECK: mlg.dropout %{{.*}} {ratio = 1.000000e-01 : f64, seed = 7 : i64, training = true}
  %9:2 = mlg.dropout %x {ratio = 0.1 : f64, training = true, seed = 7 : i64} : (tensor<2x4x8x8xf32>) -> (tensor<2x4x8x8xf32>, tensor<2x4x8x8xi1>)
  // CHECK: mlg.gemm %{{.*}}, %{{.*}} {alpha = 1.000000e+00 : f64, beta = 0.000000e+00 : f64, trans_a = true, trans_b = false}
  %10 = mlg.gemm %m, %m {alpha = 1.0 : f64, beta = 0.0 : f64, trans_a = true, trans_b = false} : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<16x16xf32>
  // CHECK: mlg.matmul %{{.*}}, %{{.*}} : (tensor<8x16xf32>, tensor<16x5xf32>) -> tensor<8x5xf32>
  %11 = mlg.matmul %m, %n : (tensor<8x16xf32>, tensor<16x5xf32>) -> tensor<8x5xf32>
  // CHECK: mlg.softmax %{{.*}} {axis = 3 : i64} : tensor<2x4x8x8xf32>
  %12 = mlg.softmax %x {axis = 3 : i64} : tensor<2x4x8x8xf32>
  // CHECK: mlg.log_softmax
  %13 = mlg.log_softmax %x {axis = 1 : i64} : tensor<2x4x8x8xf32>
  return
}

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<2x3x4xf32>) {
  // CHECK: mlg.reduce_mean %{{.*}} {axes = array<i64: 1, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  %0 = mlg.reduce_mean %x {axes = array<i64: 1, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  // CHECK: mlg.reduce_sum %{{.*}} {axes = array<i64: 0>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3x4xf32>
  %1 = mlg.reduce_sum %x {axes = array<i64: 0>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3x4xf32>
  // CHECK: mlg.argmax %{{.*}} {axis = 2 : i64, keepdims = false, select_last_index = true} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
  %2 = mlg.argmax %x {axis = 2 : i64, keepdims = false, select_last_index = true} : (tensor<2x3x4xf32>) -> tensor<2x3xi64>
  return
}

// CHECK-LABEL: func @lstm
func.func @lstm(%x: tensor<7x4x3xf32>, %w: tensor<2x20x3xf32>, %r: tensor<2x20x5xf32>,
                %b: tensor<2x40xf32>, %h: tensor<2x4x5xf32>) {
  // CHECK: mlg.lstm %{{.*}}, %{{.*}}, %{{.*}} bias %{{.*}} initial_c %{{.*}} {direction = #mlg<direction bidirectional>
  %y:3 = mlg.lstm %x, %w, %r bias %b initial_c %h {hidden_size = 5 : i64, direction = #mlg<direction bidirectional>, input_forget = false} : (tensor<7x4x3xf32>, tensor<2x20x3xf32>, tensor<2x20x5xf32>, tensor<2x40xf32>, tensor<2x4x5xf32>) -> (tensor<7x2x4x5xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>)
  return
}
