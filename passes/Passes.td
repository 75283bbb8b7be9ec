//===- Passes.td - mlg passes ------------------------------*- tablegen -*-===//
//
// Every mlg pass, with its options and statistics. The C++ of a pass derives
// from the generated impl::<Name>Base and lives in one file named after it.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_PASSES_TD
#define MLG_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def ModelSummary : Pass<"mlg-model-summary", "mlir::ModuleOp"> {
  let summary = "Print what a model holds: ops, parameters and bytes";
  let description = [{
    Prints a human-readable table of the module: the entry function's inputs
    and outputs, how many ops of each kind it runs, the parameters (mutable
    globals) and constants with their element and byte counts, and the total
    size of the intermediate results. The IR is left unchanged.

    ```
    mlg-opt model.onnx --batch-size=8 --mlg-model-summary -o /dev/null
    ```
  }];
  let options = [
    Option<"outputFile", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the summary ('-' is standard output)">,
  ];
  let statistics = [
    Statistic<"numOps", "ops", "Number of ops in function bodies">,
    Statistic<"parameterBytes", "parameter-bytes", "Bytes of parameters">,
  ];
}

def BuildTrainingStep : Pass<"mlg-build-training-step", "mlir::ModuleOp"> {
  let summary = "Turn @forward into @train_step(inputs, labels) -> loss";
  let description = [{
    Builds the training step from the forward function, as Echo does inside
    MXNet's graph compiler: adds the loss (and a `labels` argument), then
    walks the schedule backwards asking each op for its gradient through
    the GradientOpInterface, summing the gradients of values with several
    uses, and updates every trainable parameter (a mutable global that is
    not state and not frozen) with the optimizer as soon as its gradient is
    complete and nothing reads the parameter any more. Batch norm in
    training form stores its running statistics back. LSTMs are first
    unrolled into one cell per time step (see -mlg-unroll-lstm).

    The backward is built for every operand an op can differentiate;
    gradients nobody needs (of frozen parameters, of inputs) are left to
    -mlg-dead-node-elim. Optimizer state (velocities, Adam moments, the step
    counter) becomes new mutable globals initialized to zeros.

    ```
    mlg-opt model.onnx --batch-size=32 \
      --mlg-build-training-step="optimizer=momentum lr=0.1" --mlg-dead-node-elim
    ```
    gives
    ```mlir
    func.func @train_step(%x: tensor<32x3x224x224xf32> {mlg.name = "input"},
                          %labels: tensor<32xi64> {mlg.name = "labels"})
        -> (tensor<f32> {mlg.name = "loss"})
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "The forward function to turn into the training step">,
    Option<"loss", "loss", "std::string", /*default=*/"\"softmax-cross-entropy\"",
           "softmax-cross-entropy (classes on the output's last axis, "
           "int64 labels), mse (labels of the output's type), or none (the "
           "forward's single output is the loss)">,
    Option<"optimizer", "optimizer", "std::string", /*default=*/"\"sgd\"",
           "sgd, momentum, adam, or none (no updates)">,
    Option<"lr", "lr", "double", /*default=*/"0.01", "Learning rate">,
    Option<"momentum", "momentum", "double", /*default=*/"0.9",
           "Momentum of the momentum optimizer">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false",
           "Nesterov momentum">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"0.0",
           "L2 weight decay, added to every gradient">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "Adam's beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "Adam's beta2">,
    Option<"epsilon", "epsilon", "double", /*default=*/"1e-8", "Adam's epsilon">,
    ListOption<"frozen", "frozen", "std::string",
               "Parameters not to train: names, or prefixes ending in '*'">,
    Option<"returnGradients", "return-gradients", "bool", /*default=*/"false",
           "Also return each trained parameter's gradient ('grad:NAME')">,
    Option<"lossChunks", "loss-chunks", "int64_t", /*default=*/"1",
           "Softmax cross-entropy over the output product's rows in this "
           "many blocks: the output MatMul or Gemm (and its bias Add) is "
           "computed block by block and each block differentiated right "
           "after its loss, so that no block's logits outlive their block "
           "(a language model's logits are its largest tensor); -1: 8 "
           "blocks where the output is such a product of 64 MiB or more">,
    Option<"projectionSteps", "projection-steps", "int64_t", /*default=*/"0",
           "LSTM input projections over this many time steps each (0: one "
           "product for the whole sequence; -1: about the square root of "
           "the sequence length): with -mlg-recompute a plan "
           "can then recompute one block's projection at a time, and the "
           "backward holds one block's gate gradients at a time">,
    Option<"inputGradients", "input-gradients", "bool", /*default=*/"false",
           "Also return the gradient of every floating-point input "
           "('grad:NAME'), for gradient checks">,
  ];
  let statistics = [
    Statistic<"numParameters", "parameters", "Parameters trained">,
    Statistic<"numBackwardOps", "backward-ops", "Ops built for the backward">,
  ];
  let dependentDialects = ["mlir::ml_program::MLProgramDialect"];
}

def UnrollLstm : Pass<"mlg-unroll-lstm", "mlir::func::FuncOp"> {
  let summary = "Unroll every mlg.lstm into one cell op per time step";
  let description = [{
    The LSTM's training form: each direction of each mlg.lstm becomes a
    chain of mlg.lstm_cell ops, one per time step, reading its slice of the
    input and writing its hidden and cell states, so that gradients are per
    time step and later passes can checkpoint at time-step granularity.
    -mlg-build-training-step runs this first.
  }];
  let options = [
    Option<"projectionSteps", "projection-steps", "int64_t", /*default=*/"0",
           "Project the input in products over this many time steps each "
           "(0: one product for the whole sequence; -1: about the square "
           "root of the sequence length)">,
  ];
}

def DeadNodeElim : Pass<"mlg-dead-node-elim", "mlir::func::FuncOp"> {
  let summary = "Remove ops whose results nothing reads (Echo's DeadNodeElimination)";
  let description = [{
    Erases, in reverse schedule order, every op none of whose results is
    read and that has no effect other than reading memory: the gradients of
    frozen parameters and of inputs that the training-step builder leaves,
    forward results only the dropped outputs used. Ops with effects
    (optimizer updates, stores of running statistics) always stay.
  }];
  let statistics = [
    Statistic<"numErased", "erased", "Ops erased">,
  ];
}

def FoldGradientSums : Pass<"mlg-fold-gradient-sums", "mlir::func::FuncOp"> {
  let summary = "Fold sums of the LSTM cells' weight gradients into the cells' backward products";
  let description = [{
    The training step sums each LSTM weight's gradient over the time steps
    with one mlg.add per step. Where an mlg.add reads an
    mlg.lstm_cell_backward's dW, dR or dB (and nothing else does) and its
    other operand is defined before that op, the add becomes the op's
    accumulator (`accumulate_w`, `accumulate_r`, `accumulate_b`): the
    backward's products add into the running sum, written in place, instead
    of writing this step's gradient and adding it in a second pass over
    memory. Then, where a chain of projected cells (`projected`: their
    input was multiplied by W for the whole sequence at once) accumulates R's
    gradient step by step, that sum becomes one mlg.gemm of the stacked
    pre-activation gradients by the stacked previous hidden states, and the
    cells give no dR. The sums are the same up to rounding.
  }];
  let statistics = [
    Statistic<"numFolded", "folded", "Gradient sums folded into products">,
    Statistic<"numBatched", "batched",
              "Recurrent weight gradients made one product over a sequence">,
  ];
}

def Recompute : Pass<"mlg-recompute", "mlir::func::FuncOp"> {
  let summary = "Recompute forward values in the backward instead of storing them";
  let description = [{
    Echo's selective recomputation and budget-driven rematerialization on a
    training step (the forward is everything up to the op that computes the
    returned `loss`). Recomputing a forward op means: its uses after the
    forward read a clone placed just before the first of them (or before
    the clone that needs it first), so the original's buffer dies after its
    last forward use; an original only the backward read is moved there.
    A clone reads the clones of recomputed operands and the originals of
    the rest. Every choice is judged by the LOAD the edge use-ref analysis
    will find on the rewritten function (see mlg/Passes/Transforms/
    Recompute.h), and costs come from the cost model.

    - `policy=echo`: heavy ops (matrix products: convolutions, Gemm, MatMul,
      LSTM cells) are boundaries; each connected subgraph of cheap forward
      ops between them (batch norm, activations, pooling, elementwise,
      views) is kept only if recomputing it lowers LOAD.
    - `budget=<bytes>` (`4GiB`, `512MB`, `3e9`, or `50%` of the plain
      plan's peak): the least predicted recompute time whose peak (LOAD
      plus parameters, optimizer state and constants) fits, trying cheap
      subgraphs first, then segment checkpointing that recomputes heavy
      ops too, then Checkmate's mixed-integer program on the forward cut
      into at most 150 groups, solved by COIN-OR CBC within `milp-seconds`
      and started from the best plan so far, then a local search. A budget
      no plan meets is an error naming the smallest peak found.

    It runs before -mlg-plan-memory (a plan made earlier no longer fits;
    clones carry no offsets). Recomputed batch norms keep their
    running-statistics stores on the
    originals (clones store nothing); a recomputed dropout reproduces its
    mask (its random stream is keyed by its seed). Clones carry
    `mlg.recomputed`; the function gets `mlg.recompute`, a dictionary the
    memory report explains (policy, LOAD before and predicted, cloned ops,
    extra FLOPs, predicted extra and total seconds).

    ```mlir
    %y = mlg.relu %x                      // forward
    ...
    %g = mlg.relu_backward %dy, %y        // backward
    ```
    becomes
    ```mlir
    %y = mlg.relu %x
    ...
    %y2 = mlg.relu %x {mlg.recomputed}
    %g = mlg.relu_backward %dy, %y2
    ```
  }];
  let options = [
    Option<"policy", "policy", "std::string", /*default=*/"\"echo\"",
           "echo (used without a budget)">,
    Option<"budget", "budget", "std::string", /*default=*/"\"\"",
           "Peak device bytes to fit (4GiB, 512MB, 3e9, 50%)">,
    Option<"profile", "profile", "std::string", /*default=*/"\"\"",
           "Step times measured by mlg-run --profile, for the cost model "
           "(default: the H200 roofline)">,
    Option<"scratchReserve", "scratch-reserve", "std::string",
           /*default=*/"\"\"",
           "Bytes of the budget the plan leaves to the backend's scratch "
           "(convolution workspaces), e.g. 128MiB">,
    Option<"milpSeconds", "milp-seconds", "double", /*default=*/"5",
           "Seconds the budget's mixed-integer program may take (0: skip "
           "it)">,
  ];
  let statistics = [
    Statistic<"numCloned", "cloned", "Ops recomputed">,
    Statistic<"bytesSaved", "bytes-saved", "LOAD lowered by, in bytes">,
  ];
}

def PlanMemory : Pass<"mlg-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Assign every transient tensor an offset in one arena";
  let description = [{
    Static memory sharing over the edge use-ref analysis: each buffer (a
    function argument, an op result, or an op's workspace; views and
    in-place results share their operand's) gets an offset in one arena such
    that buffers live at a common step never overlap. Offsets come from
    greedy best fit tried in five orders (by size, by start, by interval
    length, by bytes times steps, by size then latest end), keeping the
    smallest arena, then a local search over placement
    orders that stops within 0.1% of the aligned LOAD (or after a bounded
    amount of work); sizes and offsets are aligned.
    Every plan is checked for overlaps before it is written.

    The plan is written as attributes: `mlg.offsets` on each op (one offset
    per result, -1 for results outside the arena), `mlg.offset` on each
    argument, `mlg.workspace = array<i64: offset, bytes>` on ops with a
    workspace, and `mlg.arena_size` and `mlg.load` on the function.

    ```mlir
    %0 = mlg.conv %arg0, %w {..., mlg.offsets = array<i64: 65536>,
                             mlg.workspace = array<i64: 196608, 110592>}
    ```
  }];
  let options = [
    Option<"alignment", "alignment", "int64_t", /*default=*/"256",
           "Alignment of every buffer's size and offset, in bytes">,
    Option<"searchIterations", "search-iterations", "int64_t",
           /*default=*/"2000",
           "Steps of local search over placement orders after greedy best fit">,
  ];
  let statistics = [
    Statistic<"arenaBytes", "arena-bytes", "Bytes of the planned arenas">,
    Statistic<"loadBytes", "load-bytes", "LOAD of the planned functions">,
    Statistic<"numBuffers", "buffers", "Buffers placed">,
  ];
}

def WriteMemoryReport : Pass<"mlg-write-memory-report", "mlir::ModuleOp"> {
  let summary = "Write the memory report (JSON and SVG) of every function";
  let description = [{
    Writes where memory goes: for every function, the edge use-ref analysis
    and, if planned, its memory plan as JSON at `output`, and a plot of live
    bytes over the schedule beside it (same path, `.svg`). The IR is left
    unchanged. `mlg-opt --mlg-memory-report=FILE.json` adds this pass at the
    end of the pipeline.
  }];
  let options = [
    Option<"output", "output", "std::string", /*default=*/"\"memory-report.json\"",
           "Path of the JSON report; the SVG goes beside it">,
    Option<"largestAtPeak", "largest-at-peak", "unsigned", /*default=*/"10",
           "How many of the biggest tensors at the peak to list">,
  ];
}

def ConvertMLGToRuntime : Pass<"convert-mlg-to-runtime", "mlir::ModuleOp"> {
  let summary = "Lower planned mlg functions to runtime programs";
  let description = [{
    Turns every planned `func.func` into an `mlgrt.program`: arguments and
    op results become `mlgrt.buffer`s at their planned arena offsets (views
    and in-place results share their operand's offset), parameter loads
    become `mlgrt.persistent` tensors by name, constants `mlgrt.constant`,
    each computing op one `mlgrt.step` with its attributes and workspace, and
    returned values `mlgrt.output`s. Every step runs on stream 0 for now.
    The plan is checked first (-mlg-plan-memory must have run); the
    functions and globals are removed.

    ```mlir
    %1 = mlg.relu %0 {mlg.offsets = array<i64: 0>} : tensor<8x64xf32>
    ```
    becomes
    ```mlir
    %b = mlgrt.buffer 0 : memref<8x64xf32>
    mlgrt.step "relu" (%a) -> (%b) {kernel_attrs = {}, ...}
    ```
  }];
  let dependentDialects = ["mlg::rt::MLGRTDialect"];
}

#endif // MLG_PASSES_PASSES_TD
