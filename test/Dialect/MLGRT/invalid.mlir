// RUN: mlg-opt %s --split-input-file --verify-diagnostics

// A buffer must lie inside the arena.
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  // expected-error @+1 {{buffer [8, 24) lies outside the arena of 16 bytes}}
  %x = mlgrt.buffer 8 : memref<4xf32>
}

// -----

// A constant must fit its buffer's type.
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  // expected-error @+1 {{value of type 'tensor<3xf32>' does not fit the buffer 'memref<4xf32>'}}
  %c = mlgrt.constant dense<1.0> : tensor<3xf32> : memref<4xf32>
}

// -----

// Streams and events must exist.
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 1 : i64, num_events = 1 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  // expected-error @+1 {{stream 1 is not below 1}}
  mlgrt.step "relu"(%x) -> (%x) {kernel_attrs = {}, stream = 1 : i64, wait = array<i64>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 1 : i64, num_events = 1 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  // expected-error @+1 {{event out of range (the program has 1)}}
  mlgrt.step "relu"(%x) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64: 1>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

// A workspace must lie inside the arena.
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  // expected-error @+1 {{workspace lies outside the arena}}
  mlgrt.step "conv"(%x) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64, workspace = array<i64: 0, 32>} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

// Programs need a stream.
// expected-error @+1 {{needs at least one stream}}
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 0 : i64, num_events = 0 : i64} {
}

// -----

// A host buffer must lie inside the host pool.
mlgrt.program @p attributes {arena_size = 16 : i64, host_size = 8 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  // expected-error @+1 {{host buffer [0, 16) lies outside the host pool of 8 bytes}}
  %h = mlgrt.host_buffer 0 : memref<4xf32>
}

// -----

// Only offload and prefetch steps touch host buffers.
mlgrt.program @p attributes {arena_size = 16 : i64, host_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %h = mlgrt.host_buffer 0 : memref<4xf32>
  // expected-error @+1 {{reads or writes a host buffer; only offload and prefetch steps do}}
  mlgrt.step "relu"(%h) -> (%h) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

// An offload goes from the arena to the host pool.
mlgrt.program @p attributes {arena_size = 16 : i64, host_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  %h = mlgrt.host_buffer 0 : memref<4xf32>
  // expected-error @+1 {{an offload copies an arena buffer to a host buffer}}
  mlgrt.step "offload"(%h) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

mlgrt.program @p attributes {arena_size = 16 : i64, host_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  %h = mlgrt.host_buffer 0 : memref<2xf64>
  // expected-error @+1 {{copies between buffers of different types}}
  mlgrt.step "prefetch"(%h) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64} : (memref<2xf64>) -> (memref<4xf32>)
}

// -----

// A step waits only for an event an earlier step records.
mlgrt.program @p attributes {arena_size = 16 : i64, num_streams = 2 : i64, num_events = 1 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  // expected-error @+1 {{waits for event 0, which no earlier step records}}
  mlgrt.step "relu"(%x) -> (%x) {kernel_attrs = {}, stream = 1 : i64, wait = array<i64: 0>, record = -1 : i64} : (memref<4xf32>) -> (memref<4xf32>)
  mlgrt.step "relu"(%x) -> (%x) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = 0 : i64} : (memref<4xf32>) -> (memref<4xf32>)
}

// -----

// Outputs are not read from the host pool.
mlgrt.program @p attributes {arena_size = 16 : i64, host_size = 16 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %h = mlgrt.host_buffer 0 : memref<4xf32>
  // expected-error @+1 {{binds a host buffer; outputs are read from the arena or persistent tensors}}
  mlgrt.output "y" %h : memref<4xf32>
}
