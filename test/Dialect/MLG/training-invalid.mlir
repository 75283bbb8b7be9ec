// RUN: mlg-opt %s --split-input-file --verify-diagnostics

// Losses and optimizer updates that disagree with their operands or globals.

func.func @labels_shape(%x: tensor<8x10xf32>, %l: tensor<10xi64>) {
  // expected-error @+1 {{labels of shape [10] do not match logits of shape [8, 10] without their class dimension}}
  %0 = mlg.softmax_cross_entropy %x, %l : (tensor<8x10xf32>, tensor<10xi64>) -> tensor<f32>
  return
}

// -----

func.func @loss_rank(%x: tensor<8x10xf32>, %l: tensor<8xi64>) {
  // expected-error @+1 {{loss must be a rank-0 tensor of 'f32'}}
  %0 = mlg.softmax_cross_entropy %x, %l : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<1xf32>
  return
}

// -----

func.func @mse_types(%x: tensor<8x10xf32>, %t: tensor<8x1xf32>) {
  // expected-error @+1 {{prediction and target must have the same type}}
  %0 = mlg.mse_loss %x, %t : (tensor<8x10xf32>, tensor<8x1xf32>) -> tensor<f32>
  return
}

// -----

func.func @unknown_global(%g: tensor<4xf32>) {
  // expected-error @+1 {{names the unknown global @nowhere}}
  mlg.sgd_update @nowhere, %g {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

ml_program.global private @frozen(dense<1.0> : tensor<4xf32>) : tensor<4xf32>
func.func @immutable(%g: tensor<4xf32>) {
  // expected-error @+1 {{updates the immutable global @frozen}}
  mlg.sgd_update @frozen, %g {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

ml_program.global private mutable @w(#ml_program.extern : tensor<4x3xf32>) : tensor<4x3xf32>
func.func @wrong_type(%g: tensor<4xf32>) {
  // expected-error @+1 {{global @w has type 'tensor<4x3xf32>', the gradient 'tensor<4xf32>'}}
  mlg.sgd_update @w, %g {lr = 0.1 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @negative_rate(%g: tensor<4xf32>) {
  // expected-error @+1 {{lr = -1.000000e+00 must lie in [0, inf)}}
  mlg.sgd_update @w, %g {lr = -1.0 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

func.func @momentum_one(%g: tensor<4xf32>) {
  // expected-error @+1 {{momentum = 1.000000e+00 must lie in [0, 1)}}
  mlg.momentum_update @w, @v, %g {lr = 0.1 : f64, momentum = 1.0 : f64, nesterov = false, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}

// -----

ml_program.global private mutable @w(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @m(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @v(#ml_program.extern : tensor<4xf32>) : tensor<4xf32>
ml_program.global private mutable @step(#ml_program.extern : tensor<f32>) : tensor<f32>
func.func @float_counter(%g: tensor<4xf32>) {
  // expected-error @+1 {{step counter @step must be a tensor<i64>}}
  mlg.adam_update @w, @m, @v, @step, %g {lr = 0.001 : f64, beta1 = 0.9 : f64, beta2 = 0.99 : f64, epsilon = 1.0e-8 : f64, weight_decay = 0.0 : f64} : tensor<4xf32>
  return
}
