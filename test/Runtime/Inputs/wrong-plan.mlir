// A wrong plan: step 0 releases x's bytes (its live interval ends), but
// step 1 still reads x. Without poisoning the stale bytes still hold x and
// the result looks right; with --poison they are 0xFF bytes (NaN).
mlgrt.program @forward attributes {arena_size = 48 : i64, num_streams = 1 : i64, num_events = 0 : i64} {
  %x = mlgrt.buffer 0 : memref<4xf32>
  mlgrt.input "x" %x : memref<4xf32>
  %y = mlgrt.buffer 16 : memref<4xf32>
  mlgrt.step "relu"(%x) -> (%y) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64, release = array<i64: 0, 16>} : (memref<4xf32>) -> (memref<4xf32>)
  %z = mlgrt.buffer 32 : memref<4xf32>
  mlgrt.step "add"(%x, %y) -> (%z) {kernel_attrs = {}, stream = 0 : i64, wait = array<i64>, record = -1 : i64} : (memref<4xf32>, memref<4xf32>) -> (memref<4xf32>)
  mlgrt.output "z" %z : memref<4xf32>
}
