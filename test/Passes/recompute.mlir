// RUN: mlg-opt %s --split-input-file --mlg-build-training-step --mlg-dead-node-elim --mlg-recompute | FileCheck %s
// RUN: mlg-opt %s --split-input-file --mlg-build-training-step --mlg-dead-node-elim --mlg-recompute=budget=550000 | FileCheck %s --check-prefix=BUDGET
// RUN: mlg-opt %s --split-input-file --mlg-build-training-step --mlg-dead-node-elim --mlg-recompute="budget=550000 milp-seconds=0" | FileCheck %s --check-prefix=NOMILP
// RUN: mlg-opt %s --split-input-file --mlg-build-training-step --mlg-dead-node-elim --mlg-recompute="budget=550000 scratch-reserve=5000" | FileCheck %s --check-prefix=RESERVE

// Echo's policy: batch norm and ReLU between two products are cheap, and
// recomputing them before the ReLU's backward lowers the peak, so their
// clones go there. The batch norm clone reads scale and bias in place of
// the running statistics its original has stored by then; the original
// and its stores stay in the forward. The gemm (a heavy op) is not
// recomputed.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    mlg.recompute = {cloned = 2 : i64, {{.*}}policy = "echo"
// CHECK:         %[[SCALE:.*]] = ml_program.global_load @scale
// CHECK-NEXT:    %[[BIAS:.*]] = ml_program.global_load @bias
// CHECK:         %[[H:.*]] = mlg.gemm %arg0
// CHECK-NEXT:    %[[Y:.*]], %[[RM:.*]], %[[RV:.*]] = mlg.batch_norm %[[H]], %[[SCALE]], %[[BIAS]], %mean, %var
// CHECK-NEXT:    ml_program.global_store @mean = %[[RM]]
// CHECK-NEXT:    ml_program.global_store @var = %[[RV]]
// CHECK-NEXT:    mlg.relu %[[Y]]
// CHECK:         %[[DD:.*]] = mlg.dropout_backward
// CHECK-NEXT:    %[[Y2:.*]], %{{.*}}, %{{.*}} = mlg.batch_norm %[[H]], %[[SCALE]], %[[BIAS]], %[[SCALE]], %[[BIAS]] {{{.*}}mlg.recomputed
// CHECK-NEXT:    %[[R2:.*]] = mlg.relu %[[Y2]] {mlg.recomputed}
// CHECK-NEXT:    mlg.relu_backward %[[DD]], %[[R2]]
// CHECK-NOT:     mlg.recomputed

// With a budget below what cheap recomputation reaches, heavy ops are
// recomputed too: the first gemm's output is not kept across the gap but
// computed again before the batch norm's backward needs it. The report
// bounds the time any plan for the budget must spend (above zero here).
// The mixed-integer program proves the same plan optimal for its model
// (its bound equals its solution's seconds, and those equal the plan's);
// milp-seconds=0 skips it and the heuristics find the plan alone.
// BUDGET-LABEL: func.func @train_step
// BUDGET-SAME:    extra_seconds = [[SECONDS:[0-9]\.[0-9]{8}]]
// BUDGET-SAME:    milp_bound_seconds = [[SECONDS]]
// BUDGET-SAME:    milp_groups = 5
// BUDGET-SAME:    milp_objective_seconds = [[SECONDS]]
// BUDGET-SAME:    milp_plan_fits = true
// BUDGET-SAME:    milp_status = "optimal"
// BUDGET-SAME:    policy = "budget"
// BUDGET-SAME:    time_lower_bound = {{[1-9]}}
// BUDGET:         %[[H:.*]] = mlg.gemm %arg0
// BUDGET-NEXT:    mlg.batch_norm %[[H]]
// BUDGET-NOT:     mlg.recomputed
// BUDGET:         mlg.dropout_backward
// BUDGET-NEXT:    %[[H2:.*]] = mlg.gemm %arg0, {{.*}}mlg.recomputed
// BUDGET-NEXT:    mlg.batch_norm %[[H2]], {{.*}}mlg.recomputed
// BUDGET:         mlg.batch_norm_backward %{{.*}}, %[[H2]]
// A scratch reserve leaves part of the budget to the backend: the plan
// fits 545000 bytes (LOAD 524804 plus 17924 persistent), the budget stays
// whole; a reserve of 30000 leaves too little (below).
// RESERVE-LABEL: func.func @train_step
// RESERVE-SAME:    budget_bytes = 550000
// RESERVE-SAME:    predicted_load = 524804
// RESERVE-SAME:    scratch_reserve_bytes = 5000
// NOMILP-LABEL: func.func @train_step
// NOMILP-SAME:    cloned = 3
// NOMILP-SAME:    milp_status = "not run"
ml_program.global private mutable @w1(#ml_program.extern : tensor<64x64xf32>) : tensor<64x64xf32>
ml_program.global private mutable @w2(#ml_program.extern : tensor<2x64xf32>) : tensor<2x64xf32>
ml_program.global private mutable @scale(#ml_program.extern : tensor<64xf32>) : tensor<64xf32>
ml_program.global private mutable @bias(#ml_program.extern : tensor<64xf32>) : tensor<64xf32>
ml_program.global private mutable @mean(#ml_program.extern : tensor<64xf32>) : tensor<64xf32> {mlg.role = "state", mlg.init = "zeros"}
ml_program.global private mutable @var(#ml_program.extern : tensor<64xf32>) : tensor<64xf32> {mlg.role = "state", mlg.init = "ones"}
func.func @forward(%x: tensor<512x64xf32>) -> tensor<512x2xf32> {
  %w1 = ml_program.global_load @w1 : tensor<64x64xf32>
  %w2 = ml_program.global_load @w2 : tensor<2x64xf32>
  %s = ml_program.global_load @scale : tensor<64xf32>
  %b = ml_program.global_load @bias : tensor<64xf32>
  %m = ml_program.global_load @mean : tensor<64xf32>
  %v = ml_program.global_load @var : tensor<64xf32>
  %h = mlg.gemm %x, %w1 {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<512x64xf32>, tensor<64x64xf32>) -> tensor<512x64xf32>
  %y, %rm, %rv = mlg.batch_norm %h, %s, %b, %m, %v {epsilon = 1.0e-05 : f64, momentum = 0.9 : f64, training = true} : (tensor<512x64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<512x64xf32>, tensor<64xf32>, tensor<64xf32>)
  %r = mlg.relu %y : tensor<512x64xf32>
  %d, %mask = mlg.dropout %r {ratio = 0.5 : f64, seed = 7 : i64, training = true} : (tensor<512x64xf32>) -> (tensor<512x64xf32>, tensor<512x64xi1>)
  %o = mlg.gemm %d, %w2 {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<512x64xf32>, tensor<2x64xf32>) -> tensor<512x2xf32>
  return %o : tensor<512x2xf32>
}

// -----

// Nothing lowers this peak (every stored value is read at it): the
// function is unchanged and says so.
// CHECK-LABEL: func.func @train_step
// CHECK-SAME:    mlg.recompute = {cloned = 0 : i64
// CHECK-NOT:     mlg.recomputed
// BUDGET-LABEL: func.func @train_step
ml_program.global private mutable @w(#ml_program.extern : tensor<2x8xf32>) : tensor<2x8xf32>
func.func @forward(%x: tensor<4x8xf32>) -> tensor<4x2xf32> {
  %w = ml_program.global_load @w : tensor<2x8xf32>
  %o = mlg.gemm %x, %w {alpha = 1.0 : f64, beta = 1.0 : f64, trans_a = false, trans_b = true} : (tensor<4x8xf32>, tensor<2x8xf32>) -> tensor<4x2xf32>
  return %o : tensor<4x2xf32>
}
