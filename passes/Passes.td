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

def PlanMemory : Pass<"mlg-plan-memory", "mlir::func::FuncOp"> {
  let summary = "Assign every transient tensor an offset in one arena";
  let description = [{
    Static memory sharing over the edge use-ref analysis: each buffer (a
    function argument, an op result, or an op's workspace; views and
    in-place results share their operand's) gets an offset in one arena such
    that buffers live at a common step never overlap. Offsets come from
    greedy best fit tried in three orders (by size, by start, by interval
    length), keeping the smallest arena, then a local search over placement
    orders that stops at the aligned LOAD; sizes and offsets are aligned.
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
