// RUN: mlg-opt %s --split-input-file --mlg-build-training-step --verify-diagnostics -o /dev/null

// The training step needs one floating-point output to take the loss of.

// expected-error @+1 {{the training step needs a forward function with one output, @forward has 2}}
func.func @forward(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  return %x, %x : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// expected-error @+1 {{the forward output must be a floating-point tensor, got 'tensor<2x3xi64>'}}
func.func @forward(%x: tensor<2x3xi64>) -> tensor<2x3xi64> {
  return %x : tensor<2x3xi64>
}

// -----

// expected-error @+1 {{softmax-cross-entropy needs an output with classes on its last axis, got 'tensor<f32>'}}
func.func @forward(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}
