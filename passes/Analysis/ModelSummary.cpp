//===- ModelSummary.cpp - print what a model holds ------------------------===//
//
// Implements -mlg-model-summary: counts ops by name, sums parameter,
// constant and intermediate-result bytes, and prints a table. It is the
// quick-start's "what was imported" and a sanity check after any pass.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"
#include "mlg/Support/Format.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

#define DEBUG_TYPE "mlg-model-summary"

namespace mlg {
#define GEN_PASS_DEF_MODELSUMMARY
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;

using mlg::formatBytes;

namespace {

int64_t bytesOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped ? mlg::checkedByteSize(shaped).value_or(0) : 0;
}

struct Totals {
  int64_t count = 0, elements = 0, bytes = 0;
  void add(Type type) {
    auto shaped = dyn_cast<ShapedType>(type);
    if (!shaped)
      return;
    ++count;
    elements += mlg::checkedNumElements(shaped.getShape()).value_or(0);
    bytes += bytesOf(type);
  }
};

void printSummary(ModuleOp module, raw_ostream &os, int64_t &numOps,
                  int64_t &parameterBytes) {
  if (auto source = module->getAttrOfType<StringAttr>("mlg.source"))
    os << "model: " << source.getValue();
  if (auto opset = module->getAttrOfType<IntegerAttr>("mlg.onnx_opset"))
    os << " (ONNX opset " << opset.getInt() << ")";
  os << "\n";

  Totals parameters, state;
  for (auto global : module.getOps<ml_program::GlobalOp>())
    (global.getIsMutable() ? parameters : state).add(global.getType());
  parameterBytes = parameters.bytes;

  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    os << "function @" << func.getSymName() << "\n";
    auto printValues = [&](StringRef label, TypeRange types, auto nameOf) {
      for (auto [i, type] : llvm::enumerate(types)) {
        os << "  " << label << " " << nameOf(i) << ": " << type << " ("
           << formatBytes(bytesOf(type)) << ")\n";
      }
    };
    printValues("input ", func.getArgumentTypes(),
                [&](unsigned i) -> std::string {
                  auto name = func.getArgAttrOfType<StringAttr>(i, "mlg.name");
                  return name ? name.str() : "#" + std::to_string(i);
                });
    printValues(
        "output", func.getResultTypes(), [&](unsigned i) -> std::string {
          auto name = func.getResultAttrOfType<StringAttr>(i, "mlg.name");
          return name ? name.str() : "#" + std::to_string(i);
        });

    llvm::MapVector<StringRef, int64_t> counts;
    Totals constants, results;
    int64_t ops = 0;
    func.walk([&](Operation *op) {
      if (op == func || op->hasTrait<OpTrait::IsTerminator>())
        return;
      if (isa<mlg::ConstantOp>(op)) {
        constants.add(op->getResult(0).getType());
        return;
      }
      if (isa<ml_program::GlobalLoadOp, ml_program::GlobalLoadConstOp>(op))
        return;
      ++ops;
      ++counts[op->getName().getStringRef()];
      for (Type type : op->getResultTypes())
        results.add(type);
    });
    numOps += ops;
    os << "ops: " << ops << " in " << counts.size() << " kinds\n";
    llvm::sort(counts, [](auto &a, auto &b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (auto &[name, count] : counts)
      os << llvm::format("  %-28s %6lld\n", name.str().c_str(),
                         static_cast<long long>(count));
    os << "constants: " << constants.count << " tensors, " << constants.elements
       << " elements, " << formatBytes(constants.bytes) << "\n";
    os << "intermediate results: " << results.count << " tensors, "
       << formatBytes(results.bytes) << " if all were kept\n";
  }
  os << "parameters and state (mutable globals): " << parameters.count
     << " tensors, " << parameters.elements << " elements, "
     << formatBytes(parameters.bytes) << "\n";
  if (state.count)
    os << "non-trainable tensors: " << state.count << " tensors, "
       << state.elements << " elements, " << formatBytes(state.bytes) << "\n";
}

struct ModelSummaryPass : mlg::impl::ModelSummaryBase<ModelSummaryPass> {
  using ModelSummaryBase::ModelSummaryBase;

  void runOnOperation() override {
    std::string error;
    auto output = openOutputFile(outputFile, &error);
    if (!output) {
      getOperation().emitError() << "cannot write the summary: " << error;
      return signalPassFailure();
    }
    int64_t ops = 0, params = 0;
    printSummary(getOperation(), output->os(), ops, params);
    numOps += ops;
    parameterBytes += params;
    output->keep();
    markAllAnalysesPreserved();
  }
};

} // namespace
