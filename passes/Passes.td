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

#endif // MLG_PASSES_PASSES_TD
