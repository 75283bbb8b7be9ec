//===- MLGRecurrentOps.td - the LSTM's training form -------*- tablegen -*-===//
//
// For training, each mlg.lstm is unrolled into one cell op per time step and
// direction (so later passes can checkpoint at time-step granularity, as the
// BPTT memory algorithms need), and each cell has an explicit backward op.
// mlg.stack and mlg.unstack cut the sequence into steps and put the steps'
// states back together: one op for the whole sequence where split, concat
// and a reshape per step would cost the memory planner 2T + 1 ops.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_DIALECT_MLG_MLGRECURRENTOPS_TD
#define MLG_DIALECT_MLG_MLGRECURRENTOPS_TD

include "MLGBase.td"

//===----------------------------------------------------------------------===//
// One LSTM step
//===----------------------------------------------------------------------===//

def MLG_LSTMCellOp : MLG_InferredOp<"lstm_cell", [
    AttrSizedOperandSegments,
    DeclareOpInterfaceMethods<MLG_GradientOpInterface>,
    DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "one time step of one direction of an LSTM";
  let description = [{
    The step of `mlg.lstm` (ONNX LSTM, gate order i, o, f, c, activations
    sigmoid, tanh, tanh) for one direction: `x` `[N, I]`, the previous
    hidden and cell states `h_prev`, `c_prev` `[N, H]`, that direction's
    weights `W` `[4H, I]`, `R` `[4H, H]`, biases `B` `[8H]` (`Wb` then `Rb`)
    and peepholes `P` `[3H]` (i, o, f). An absent `h_prev` or `c_prev` is
    zero (the first step without an initial state: no recurrent product, no
    zero tensor). With `clip`, every pre-activation is clamped to
    `[-clip, clip]`; with `input_forget`, `f = 1 - i`.

    Results: `h` and `c` `[N, H]`, and `gates` `[N, 4H]`, the activated
    gates i, o, f, c of each row, which is what the backward
    (`mlg.lstm_cell_backward`) reads instead of redoing the two products.

    With `projected`, `x` is `[N, 4H]`: the step's input already multiplied
    by `W` transposed (the unrolled LSTM projects every time step in one
    product before the cells), and the cell adds the recurrent product and
    the biases to it; `W` names the weights the projection used and is not
    applied again. Its backward then gives the pre-activations' gradients
    as `dx` and no `dW`: W's gradient comes from the projection's product,
    again one for the whole sequence.

    ```mlir
    %h, %c, %gates = mlg.lstm_cell %x h_prev %h0 c_prev %c0 weights %w, %r bias %b {input_forget = false} : (tensor<64x512xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<4096x512xf32>, tensor<4096x1024xf32>, tensor<8192xf32>) -> (tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x4096xf32>)
    ```
  }];
  let arguments = (ins MLG_FloatTensor:$x, Optional<MLG_FloatTensor>:$h_prev,
                   Optional<MLG_FloatTensor>:$c_prev, MLG_FloatTensor:$W,
                   MLG_FloatTensor:$R, Optional<MLG_FloatTensor>:$B,
                   Optional<MLG_FloatTensor>:$P, OptionalAttr<F64Attr>:$clip,
                   BoolAttr:$input_forget, UnitAttr:$projected);
  let results = (outs MLG_FloatTensor:$h, MLG_FloatTensor:$c,
                 MLG_FloatTensor:$gates);
  let assemblyFormat = [{
    $x (`h_prev` $h_prev^)? (`c_prev` $c_prev^)? `weights` $W `,` $R
    (`bias` $B^)? (`peepholes` $P^)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def MLG_LSTMCellBackwardOp : MLG_Op<"lstm_cell_backward", [
    Pure, AttrSizedOperandSegments, AttrSizedResultSegments,
    DeclareOpInterfaceMethods<MLG_WorkspaceOpInterface>,
    DeclareOpInterfaceMethods<MLG_InPlaceResultsOpInterface>,
    DeclareOpInterfaceMethods<MLG_CostOpInterface>]> {
  let summary = "gradients of one LSTM step";
  let description = [{
    Given the gradients `dh`, `dc` `[N, H]` of an `mlg.lstm_cell`'s `h` and
    `c` (either may be absent: zero), and the forward's `x`, `h_prev`,
    `c_prev`, `c`, `gates`, `W`, `R` and `P`, computes the gradients of the
    step's pre-activations (in the workspace, `N * 4H` elements) and from
    them `dx` `[N, I]`, `dh_prev`, `dc_prev` `[N, H]` (present exactly when
    `h_prev`, `c_prev` are), this step's `dW` `[4H, I]`, `dR` `[4H, H]`
    (present when `h_prev` is; without it R had no effect), `dB` `[8H]` and
    `dP` `[3H]` (present when `P` is). `clip` and `input_forget` are the
    cell's: a pre-activation whose activated gate equals the activation of
    `-clip` or `clip` was clamped and passes no gradient.

    With `projected` (the cell's), `x` is absent: `dx` is the
    pre-activations' gradients `[N, 4H]` themselves (no workspace) and `dW`
    is absent; `dR` may be absent too, where the training step computes R's
    gradient for the whole sequence in one product of the stacked `dx` and
    `h_prev` (`-mlg-fold-gradient-sums`).

    With `accumulate_w`, `accumulate_r`, `accumulate_b` (gradients summed
    so far, of dW's, dR's and dB's types; each only where that result is
    present), the results are those sums plus this step's gradients: the
    products accumulate into them (`-mlg-fold-gradient-sums` folds the
    training step's sums over time steps in), and each result may be
    written over its accumulator.

    ```mlir
    %dx, %dh0, %dc0, %dw, %dr, %db = mlg.lstm_cell_backward dh %dh dc %dc x %x h_prev %h0 c_prev %c0 c %c gates %gates weights %w, %r {input_forget = false, resultSegmentSizes = array<i32: 1, 1, 1, 1, 1, 1, 0>} : (tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x512xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x4096xf32>, tensor<4096x512xf32>, tensor<4096x1024xf32>) -> (tensor<64x512xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<4096x512xf32>, tensor<4096x1024xf32>, tensor<8192xf32>)
    ```
  }];
  let arguments = (ins Optional<MLG_FloatTensor>:$dh,
                   Optional<MLG_FloatTensor>:$dc, Optional<MLG_FloatTensor>:$x,
                   Optional<MLG_FloatTensor>:$h_prev,
                   Optional<MLG_FloatTensor>:$c_prev, MLG_FloatTensor:$c,
                   MLG_FloatTensor:$gates, MLG_FloatTensor:$W,
                   MLG_FloatTensor:$R, Optional<MLG_FloatTensor>:$P,
                   Optional<MLG_FloatTensor>:$dW_acc,
                   Optional<MLG_FloatTensor>:$dR_acc,
                   Optional<MLG_FloatTensor>:$dB_acc,
                   OptionalAttr<F64Attr>:$clip, BoolAttr:$input_forget,
                   UnitAttr:$projected);
  let results = (outs MLG_FloatTensor:$dx, Optional<MLG_FloatTensor>:$dh_prev,
                 Optional<MLG_FloatTensor>:$dc_prev, Optional<MLG_FloatTensor>:$dW,
                 Optional<MLG_FloatTensor>:$dR, Optional<MLG_FloatTensor>:$dB,
                 Optional<MLG_FloatTensor>:$dP);
  let assemblyFormat = [{
    (`dh` $dh^)? (`dc` $dc^)? (`x` $x^)? (`h_prev` $h_prev^)?
    (`c_prev` $c_prev^)? `c` $c `gates` $gates `weights` $W `,` $R
    (`peepholes` $P^)? (`accumulate_w` $dW_acc^)? (`accumulate_r` $dR_acc^)?
    (`accumulate_b` $dB_acc^)? attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Steps of a sequence
//===----------------------------------------------------------------------===//

def MLG_UnstackOp : MLG_Op<"unstack", [
    Pure, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "cut a tensor into the pieces indexed by its leading dimensions";
  let description = [{
    With `input` of shape `L ++ S`, where every result has shape `S` and
    there are `prod(L)` results, result `k` is `input[l]` for `l` the k-th
    index of `L` in row-major order. The unrolled LSTM cuts its input into
    time steps `[T, N, I] -> T x [N, I]` and its stacked weights into
    directions with it. The inverse of `mlg.stack`.

    ```mlir
    %x0, %x1, %x2 = mlg.unstack %x : (tensor<3x64x512xf32>) -> (tensor<64x512xf32>, tensor<64x512xf32>, tensor<64x512xf32>)
    ```
  }];
  let arguments = (ins MLG_Tensor:$input);
  let results = (outs Variadic<MLG_Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def MLG_StackOp : MLG_Op<"stack", [
    Pure, DeclareOpInterfaceMethods<MLG_GradientOpInterface>]> {
  let summary = "join tensors of one shape along new leading dimensions";
  let description = [{
    With `k` inputs of shape `S` and a result of shape `L ++ S` where
    `prod(L) = k`, `output[l]` is input `k'` for `l` the k'-th index of `L`
    in row-major order. The unrolled LSTM builds `Y` `[T, D, N, H]` from its
    `T * D` hidden states `[N, H]` (time-major, then direction) with it.
    The inverse of `mlg.unstack`.

    ```mlir
    %y = mlg.stack %h0, %h1, %h2, %h3 : (tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>, tensor<64x1024xf32>) -> tensor<2x2x64x1024xf32>
    ```
  }];
  let arguments = (ins Variadic<MLG_Tensor>:$inputs);
  let results = (outs MLG_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // MLG_DIALECT_MLG_MLGRECURRENTOPS_TD
