// RUN: mlg-opt %s --split-input-file --mlg-lower-pipeline='alignment=64' | FileCheck %s
// RUN: not mlg-opt %s --split-input-file --convert-mlg-to-runtime -o /dev/null 2>&1 | FileCheck %s --check-prefix=UNPLANNED

// Arguments become input buffers at their planned offsets, parameter loads
// persistent tensors by name, each op a step with its own attributes (not
// the plan's) and its workspace, views and in-place results buffers at their
// operand's offset, returned values outputs. Functions and globals go.
// The arena: the input (64 after alignment), the workspace (144, so 192)
// and the convolution's result (64), all live at the convolution.
// CHECK-LABEL: mlgrt.program @net attributes {arena_size = 320 : i64, num_events = 0 : i64, num_streams = 1 : i64}
// CHECK: %[[X:.*]] = mlgrt.buffer [[XO:[0-9]+]] : memref<1x1x4x4xf32>
// CHECK: mlgrt.input "image" %[[X]]
// CHECK: %[[W:.*]] = mlgrt.persistent "w" parameter : memref<1x1x3x3xf32>
// CHECK: %[[T:.*]] = mlgrt.persistent "steps" table : memref<2xi64>
// CHECK: %[[C:.*]] = mlgrt.buffer [[CO:[0-9]+]] : memref<1x1x2x2xf32>
// The image dies at the convolution: its 64 bytes are released there.
// CHECK: mlgrt.step "conv"(%[[X]], %[[W]]) -> (%[[C]]) {kernel_attrs = {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}, name = "conv1", record = -1 : i64, release = array<i64: [[XO]], 64>, stream = 0 : i64, wait = array<i64>, workspace = array<i64: {{[0-9]+}}, 144>}
// CHECK: %[[R:.*]] = mlgrt.buffer [[CO]] : memref<1x1x2x2xf32>
// CHECK: mlgrt.step "relu"(%[[C]]) -> (%[[R]]) {kernel_attrs = {}, name = "relu1", record = -1 : i64, stream
// CHECK: %[[F:.*]] = mlgrt.buffer [[CO]] : memref<4xf32>
// CHECK: mlgrt.output "out" %[[F]] : memref<4xf32>
// CHECK-NOT: func.func
// CHECK-NOT: ml_program.global
ml_program.global private mutable @w(#ml_program.extern : tensor<1x1x3x3xf32>) : tensor<1x1x3x3xf32>
ml_program.global private @steps(#ml_program.extern : tensor<2xi64>) : tensor<2xi64>
func.func @net(%x: tensor<1x1x4x4xf32> {mlg.name = "image"}) -> (tensor<4xf32> {mlg.name = "out"}, tensor<2xi64> {mlg.name = "table"}) {
  %w = ml_program.global_load @w : tensor<1x1x3x3xf32>
  %t = ml_program.global_load_const @steps : tensor<2xi64>
  %0 = mlg.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> loc("conv1")
  %1 = mlg.relu %0 : tensor<1x1x2x2xf32> loc("relu1")
  %2 = mlg.reshape %1 : tensor<1x1x2x2xf32> to tensor<4xf32>
  return %2, %t : tensor<4xf32>, tensor<2xi64>
}

// -----

// Without a plan there is nothing to lower.
// UNPLANNED: error: has no memory plan; run -mlg-plan-memory first
func.func @unplanned(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = mlg.relu %x : tensor<4xf32>
  return %0 : tensor<4xf32>
}
