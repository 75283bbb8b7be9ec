// RUN: mlg-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(mlg-plan-memory{alignment=64}))' | FileCheck %s

// A chain with a view and in-place ops: one buffer holds them all, next to
// the argument; the arena is LOAD (80 bytes, aligned to 64: 64 + 64).
// CHECK-LABEL: func.func @chain
// CHECK-SAME: (%{{.*}}: tensor<4xf32> {mlg.offset = [[A:[0-9]+]] : i64})
// CHECK-SAME: attributes {mlg.arena_size = 128 : i64, mlg.load = 80 : i64}
// CHECK: mlg.expand {{.*}} {mlg.offsets = array<i64: [[B:[0-9]+]]>}
// CHECK: mlg.exp {{.*}} {mlg.offsets = array<i64: [[B]]>}
// CHECK: mlg.reshape {{.*}} {mlg.offsets = array<i64: [[B]]>}
// CHECK: mlg.relu {{.*}} {mlg.offsets = array<i64: [[B]]>}
func.func @chain(%x: tensor<4xf32>) -> tensor<16xf32> {
  %b = mlg.expand %x : tensor<4xf32> to tensor<4x4xf32>
  %0 = mlg.exp %b : tensor<4x4xf32>
  %1 = mlg.reshape %0 : tensor<4x4xf32> to tensor<16xf32>
  %2 = mlg.relu %1 : tensor<16xf32>
  return %2 : tensor<16xf32>
}

// -----

// Values live at the same step get disjoint offsets; values that are not
// reuse the memory of those that died. Parameters and constants get none;
// a workspace gets an offset and its size.
// CHECK-LABEL: func.func @reuse
// The peak is the convolution: its 256-byte input, 36-byte output and
// 324-byte workspace (1 * 3 * 3 rows by 3 * 3 columns of f32), aligned to
// 256 + 64 + 384 bytes; the max pool's output reuses the workspace's memory.
// CHECK-SAME: mlg.arena_size = 704 : i64, mlg.load = 616 : i64
// CHECK: ml_program.global_load @w : tensor<1x1x3x3xf32>
// CHECK-NOT: mlg.offsets
// CHECK: mlg.conv {{.*}}mlg.offsets = array<i64: [[C:[0-9]+]]>, mlg.workspace = array<i64: [[W:[0-9]+]], 324>
// CHECK: mlg.max_pool {{.*}}mlg.offsets = array<i64: [[W]]>
ml_program.global private mutable @w(#ml_program.extern : tensor<1x1x3x3xf32>) : tensor<1x1x3x3xf32>
func.func @reuse(%x: tensor<1x1x8x8xf32>) -> tensor<1x1x3x3xf32> {
  %w = ml_program.global_load @w : tensor<1x1x3x3xf32>
  %0 = mlg.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x1x8x8xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %1 = mlg.max_pool %0 {ceil_mode = false, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  return %1 : tensor<1x1x3x3xf32>
}

