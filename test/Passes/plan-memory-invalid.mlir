// RUN: mlg-opt %s --pass-pipeline='builtin.module(func.func(mlg-plan-memory{alignment=48}))' --verify-diagnostics -o /dev/null

// The alignment must be a power of two.
// expected-error @+1 {{alignment must be a power of two, got 48}}
func.func @bad_alignment(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
