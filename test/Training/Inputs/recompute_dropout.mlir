func.func @dropout_mask(%x: tensor<256x64xf32>, %labels: tensor<256xi64>) -> (tensor<f32> {mlg.name = "loss"}, tensor<f32>, tensor<256x64xf32>) {
  %d, %mask = mlg.dropout %x {ratio = 5.0e-01 : f64, seed = 11 : i64, training = true} : (tensor<256x64xf32>) -> (tensor<256x64xf32>, tensor<256x64xi1>)
  %l = mlg.neg %d : tensor<256x64xf32>
  %loss = mlg.softmax_cross_entropy %l, %labels : (tensor<256x64xf32>, tensor<256xi64>) -> tensor<f32>
  %one = mlg.constant dense<1.0> : tensor<f32>
  %z = mlg.expand %one : tensor<f32> to tensor<256x256xf32>
  %z2 = mlg.exp %z : tensor<256x256xf32>
  %s = mlg.softmax_cross_entropy %z2, %labels : (tensor<256x256xf32>, tensor<256xi64>) -> tensor<f32>
  %g = mlg.softmax_cross_entropy_backward %one, %l, %labels : (tensor<f32>, tensor<256x64xf32>, tensor<256xi64>) -> tensor<256x64xf32>
  %gd = mlg.dropout_backward %g, %mask {ratio = 5.0e-01 : f64} : (tensor<256x64xf32>, tensor<256x64xi1>) -> tensor<256x64xf32>
  %e = mlg.add %gd, %d : (tensor<256x64xf32>, tensor<256x64xf32>) -> tensor<256x64xf32>
  return %loss, %s, %e : tensor<f32>, tensor<f32>, tensor<256x64xf32>
}
