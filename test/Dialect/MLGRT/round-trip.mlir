// RUN: mlg-opt %s | mlg-opt | FileCheck %s
// RUN: mlg-opt %s --mlir-print-op-generic | mlg-opt | FileCheck %s

// Every runtime op prints and parses back.

// CHECK-LABEL: mlgrt.program @forward attributes {arena_size = 1024 : i64, host_size = 32 : i64, num_events = 2 : i64, num_streams = 3 : i64, source = "m.onnx"}
// CHECK: %[[X:.*]] = mlgrt.buffer 0 : memref<2x4xf32>
// CHECK: mlgrt.input "input" %[[X]] : memref<2x4xf32>
// CHECK: %[[W:.*]] = mlgrt.persistent "fc.weight" parameter : memref<4x4xf32>
// CHECK: %[[S:.*]] = mlgrt.persistent "bn.running_mean" state : memref<4xf32>
// CHECK: %[[T:.*]] = mlgrt.persistent "table" table : memref<10xi64>
// CHECK: %[[C:.*]] = mlgrt.constant dense<1.000000e+00> : tensor<4xf32> : memref<4xf32>
// CHECK: %[[Y:.*]] = mlgrt.buffer 512 : memref<2x4xf32>
// CHECK: mlgrt.step "relu"(%[[X]]) -> (%[[X]]) {kernel_attrs = {}, record = 0 : i64, stream = 0 : i64, wait = array<i64>}
// CHECK: mlgrt.step "gemm"(%[[X]], %[[W]], %[[C]]) -> (%[[Y]]) {kernel_attrs = {alpha = 1.000000e+00 : f64, trans_b = true}, name = "fc", record = 1 : i64, stream = 2 : i64, wait = array<i64: 0>, workspace = array<i64: 256, 128>}
// CHECK: %[[H:.*]] = mlgrt.host_buffer 0 : memref<2x4xf32>
// CHECK: mlgrt.step "offload"(%[[Y]]) -> (%[[H]]) {kernel_attrs = {}, record = -1 : i64, stream = 1 : i64, wait = array<i64: 1>}
// CHECK: mlgrt.output "logits" %[[Y]] : memref<2x4xf32>
mlgrt.program @forward attributes {arena_size = 1024 : i64, host_size = 32 : i64, num_streams = 3 : i64, num_events = 2 : i64, source = "m.onnx"} {
  %x = mlgrt.buffer 0 : memref<2x4xf32>
  mlgrt.input "input" %x : memref<2x4xf32>
  %w = mlgrt.persistent "fc.weight" parameter : memref<4x4xf32>
  %s = mlgrt.persistent "bn.running_mean" state : memref<4xf32>
  %t = mlgrt.persistent "table" table : memref<10xi64>
  %c = mlgrt.constant dense<1.0> : tensor<4xf32> : memref<4xf32>
  %y = mlgrt.buffer 512 : memref<2x4xf32>
  mlgrt.step "relu"(%x) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = 0 : i64} : (memref<2x4xf32>) -> (memref<2x4xf32>)
  mlgrt.step "gemm"(%x, %w, %c) -> (%y) {kernel_attrs = {alpha = 1.0 : f64, trans_b = true}, name = "fc", stream = 2 : i64, wait = array<i64: 0>, record = 1 : i64, workspace = array<i64: 256, 128>} : (memref<2x4xf32>, memref<4x4xf32>, memref<4xf32>) -> (memref<2x4xf32>)
  %h = mlgrt.host_buffer 0 : memref<2x4xf32>
  mlgrt.step "offload"(%y) -> (%h) {kernel_attrs = {}, stream = 1 : i64, wait = array<i64: 1>, record = -1 : i64} : (memref<2x4xf32>) -> (memref<2x4xf32>)
  mlgrt.output "logits" %y : memref<2x4xf32>
}
