//===- consumer.cpp - an outside compiler that embeds mlg -----------------===//
//
// Loads an ONNX file with mlg's importer, runs mlg's planning pass and the
// lowering pipeline through its public headers, and prints what it got.
//
//===----------------------------------------------------------------------===//

#include "mlg/Import/Onnx/OnnxImporter.h"
#include "mlg/InitAll.h"
#include "mlg/Passes/Analysis/EdgeUseRef.h"
#include "mlg/Passes/Passes.h"
#include "mlg/Passes/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    llvm::errs() << "usage: consumer model.onnx\n";
    return 2;
  }
  mlir::DialectRegistry registry;
  mlg::registerAllDialects(registry);
  mlir::MLIRContext context(registry);

  mlg::OnnxImportOptions options;
  options.batchSize = 4;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlg::importOnnxFile(argv[1], &context, options);
  if (!module)
    return 1;

  // One mlg pass by itself, then query the analysis the memory passes share.
  mlir::PassManager plan(&context);
  plan.addNestedPass<mlir::func::FuncOp>(mlg::createPlanMemory());
  if (mlir::failed(plan.run(*module)))
    return 1;
  for (auto func : module->getOps<mlir::func::FuncOp>()) {
    mlg::EdgeUseRef analysis(func);
    llvm::outs()
        << "planned @" << func.getSymName() << ": LOAD " << analysis.getLoad()
        << " bytes, arena "
        << func->getAttrOfType<mlir::IntegerAttr>("mlg.arena_size").getInt()
        << " bytes\n";
  }

  // The lowering pipeline through its builder function.
  mlir::PassManager lower(&context);
  mlg::buildLowerPipeline(lower, mlg::LowerPipelineOptions());
  if (mlir::failed(lower.run(*module)))
    return 1;
  unsigned programs = 0;
  module->walk([&](mlg::rt::ProgramOp) { ++programs; });
  llvm::outs() << "lowered to " << programs << " program(s)\n";
  return 0;
}
