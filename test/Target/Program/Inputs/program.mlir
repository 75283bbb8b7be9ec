// A program using every field of the format: two streams, an event, a host
// pool with an offload into it, a reshaped view of a persistent tensor, integer and boolean constants, enum,
// float, bool, int-list and segment attributes, a workspace, a release list
// a persistent tensor initialized to zeros and an empty list attribute.
mlgrt.program @forward attributes {arena_size = 1024 : i64, host_size = 64 : i64, memory_budget = 4096 : i64, num_streams = 2 : i64, num_events = 1 : i64, source = "model.onnx"} {
  %x = mlgrt.buffer 0 : memref<2x4xf32>
  mlgrt.input "x" %x : memref<2x4xf32>
  %w = mlgrt.persistent "fc.weight" parameter : memref<4x4xf32>
  %wv = mlgrt.persistent "fc.weight" parameter : memref<16xf32>
  %m = mlgrt.persistent "bn.mean" state {init = #mlgrt<init zeros>} : memref<4xf32>
  %c = mlgrt.constant dense<[1, 2, 3]> : tensor<3xi64> : memref<3xi64>
  %b = mlgrt.constant dense<true> : tensor<2xi1> : memref<2xi1>
  %y = mlgrt.buffer 512 : memref<2x4xf32>
  %u = mlgrt.buffer 768 : memref<2x4xui8>
  mlgrt.step "gemm"(%x, %w, %m) -> (%y) {kernel_attrs = {alpha = 1.5 : f64, trans_b = true}, name = "fc", stream = 1 : i64, wait = array<i64>, record = 0 : i64, workspace = array<i64: 256, 128>} : (memref<2x4xf32>, memref<4x4xf32>, memref<4xf32>) -> (memref<2x4xf32>)
  mlgrt.step "pad"(%y) -> (%y) {kernel_attrs = {mode = #mlg<pad_mode reflect>, pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64}, name = "pad", stream = 0 : i64, wait = array<i64: 0>, record = 0 : i64, release = array<i64: 0, 32>} : (memref<2x4xf32>) -> (memref<2x4xf32>)
  mlgrt.step "lstm"(%x) -> (%u) {kernel_attrs = {axes = array<i64>, direction = #mlg<direction bidirectional>, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0>}, stream = 0 : i64, wait = array<i64>, record = -1 : i64} : (memref<2x4xf32>) -> (memref<2x4xui8>)
  %h = mlgrt.host_buffer 32 : memref<2x4xf32>
  mlgrt.step "offload"(%y) -> (%h) {kernel_attrs = {}, stream = 1 : i64, wait = array<i64: 0>, record = -1 : i64} : (memref<2x4xf32>) -> (memref<2x4xf32>)
  mlgrt.output "y" %y : memref<2x4xf32>
}
