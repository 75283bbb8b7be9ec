// RUN: mlg-opt %s --split-input-file --mlg-recompute=budget=1KB --verify-diagnostics -o /dev/null
// RUN: not mlg-opt %s --split-input-file --mlg-recompute=budget=lots -o /dev/null 2>&1 | FileCheck %s --check-prefix=MALFORMED
// RUN: not mlg-opt %s --split-input-file --mlg-recompute=policy=magic -o /dev/null 2>&1 | FileCheck %s --check-prefix=POLICY
// RUN: not mlg-opt %s --split-input-file --mlg-recompute=profile=%t.missing.json -o /dev/null 2>&1 | FileCheck %s --check-prefix=PROFILE
// RUN: not mlg-opt %s --split-input-file --mlg-recompute="budget=1KB milp-seconds=-1" -o /dev/null 2>&1 | FileCheck %s --check-prefix=MILP
// RUN: not mlg-opt %s --split-input-file --mlg-recompute="budget=1KB scratch-reserve=1KB" -o /dev/null 2>&1 | FileCheck %s --check-prefix=RESERVE
// RUN: not mlg-opt %S/recompute.mlir --split-input-file --mlg-build-training-step --mlg-dead-node-elim --mlg-recompute="budget=550000 scratch-reserve=30000" -o /dev/null 2>&1 | FileCheck %s --check-prefix=RESERVE-MISS
// RUN: not mlg-opt %s --split-input-file --mlg-recompute="budget=1KB scratch-reserve=lots" -o /dev/null 2>&1 | FileCheck %s --check-prefix=RESERVE-BAD

// A budget below any plan's peak is refused with the smallest peak found
// and the bound no plan goes below (the largest step's working set);
// a malformed budget, an unknown policy and a missing profile are named.
// MALFORMED: error: budget 'lots': expected bytes with an optional unit
// POLICY: error: unknown recompute policy 'magic' (expected echo, or a budget)
// PROFILE: error: profile '{{.*}}missing.json': No such file or directory
// MILP: error: milp-seconds must be 0 or more, not -1
// RESERVE: error: scratch-reserve '1KB' must be bytes (0 or more, below the budget 1000 B)
// RESERVE-MISS: error: recompute budget 537.1 KiB less a scratch reserve of 29.3 KiB cannot be met: the smallest peak found is 530.0 KiB
// RESERVE-BAD: error: scratch-reserve 'lots' must be bytes (0 or more, below the budget 1000 B): budget 'lots': expected bytes

// expected-error @+1 {{recompute budget 1000 B cannot be met: the smallest peak found is 2.0 KiB (2.0 KiB of activations and gradients, 4 B of parameters, optimizer state and constants); no plan goes below 2.0 KiB (mlg.mul alone holds 2.0 KiB)}}
func.func @too_small(%x: tensor<256xf32>, %labels: tensor<1xi64>) -> (tensor<f32> {mlg.name = "loss"}) {
  %r = mlg.reshape %x : tensor<256xf32> to tensor<1x256xf32>
  %e = mlg.exp %r : tensor<1x256xf32>
  %loss = mlg.softmax_cross_entropy %e, %labels : (tensor<1x256xf32>, tensor<1xi64>) -> tensor<f32>
  %one = mlg.constant dense<1.0> : tensor<f32>
  %g = mlg.softmax_cross_entropy_backward %one, %e, %labels : (tensor<f32>, tensor<1x256xf32>, tensor<1xi64>) -> tensor<1x256xf32>
  %ge = mlg.mul %g, %e : (tensor<1x256xf32>, tensor<1x256xf32>) -> tensor<1x256xf32>
  return %loss : tensor<f32>
}

// -----

// A function that returns nothing has no forward to split: left alone.
func.func @no_loss(%x: tensor<4xf32>) {
  %e = mlg.exp %x : tensor<4xf32>
  return
}
