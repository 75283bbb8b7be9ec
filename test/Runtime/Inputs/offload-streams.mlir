// An offload round trip on three streams, as the offload passes will emit
// it: stream 0 computes, stream 1 copies device to host, stream 2 host to
// device. y = relu(x) goes to the host pool (event 0: y is ready), its
// arena bytes are written over by w = -x once the copy is done (event 1),
// y comes back into z (event 1, then event 2: z is ready), and the output
// is z + w = relu(x) - x. Without the events the overwrite could race the
// copy out; with poisoning, y's bytes are poisoned when the offload ends.
mlgrt.program @forward attributes {arena_size = 48 : i64, host_size = 16 : i64, num_streams = 3 : i64, num_events = 3 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  mlgrt.input "x" %x : memref<4xf32>
  %y = mlgrt.buffer 16 : memref<4xf32>
  mlgrt.step "relu"(%x) -> (%y) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = 0 : i64} : (memref<4xf32>) -> (memref<4xf32>)
  %h = mlgrt.host_buffer 0 : memref<4xf32>
  mlgrt.step "offload"(%y) -> (%h) {kernel_attrs = {}, stream = 1 : i64, wait = array<i64: 0>, record = 1 : i64, release = array<i64: 16, 16>} : (memref<4xf32>) -> (memref<4xf32>)
  %w = mlgrt.buffer 16 : memref<4xf32>
  mlgrt.step "neg"(%x) -> (%w) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64: 1>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
  %z = mlgrt.buffer 32 : memref<4xf32>
  mlgrt.step "prefetch"(%h) -> (%z) {kernel_attrs = {}, stream = 2 : i64, wait = array<i64: 1>, record = 2 : i64} : (memref<4xf32>) -> (memref<4xf32>)
  mlgrt.step "add"(%z, %w) -> (%z) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64: 2>, record = -1 : i64} : (memref<4xf32>, memref<4xf32>) -> (memref<4xf32>)
  mlgrt.output "out" %z : memref<4xf32>
}
