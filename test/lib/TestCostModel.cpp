//===- TestCostModel.cpp - print every op's cost --------------------------===//
//
// -test-mlg-cost-model[=profile=FILE.json] prints, for every op of every
// function, its FLOPs, bytes moved, class and predicted time on the H200
// defaults (or with the step times of an mlg-run --profile file), then the
// function's total. Test-only: lit tests check the cost model through it.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Analysis/CostModel.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Format.h"

using namespace mlir;

namespace {

struct TestCostModelPass
    : PassWrapper<TestCostModelPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestCostModelPass)
  TestCostModelPass() = default;
  TestCostModelPass(const TestCostModelPass &other) : PassWrapper(other) {}
  StringRef getArgument() const final { return "test-mlg-cost-model"; }
  StringRef getDescription() const final {
    return "Print every op's FLOPs, bytes and predicted time";
  }
  Option<std::string> profile{*this, "profile",
                              llvm::cl::desc("an mlg-run --profile file")};

  void runOnOperation() override {
    mlg::DeviceProfile device = mlg::DeviceProfile::h200();
    if (!profile.empty()) {
      std::string error;
      auto loaded = mlg::DeviceProfile::fromProfileFile(profile, &error);
      if (failed(loaded)) {
        getOperation().emitError(error);
        return signalPassFailure();
      }
      device = std::move(*loaded);
    }
    raw_ostream &os = llvm::outs();
    double total = 0, flops = 0, bytes = 0;
    os << "cost @" << getOperation().getSymName() << " on " << device.name
       << "\n";
    getOperation().walk([&](Operation *op) {
      if (op == getOperation())
        return;
      mlg::OpCost cost = mlg::estimateCost(op);
      double seconds = device.seconds(op);
      total += seconds;
      flops += cost.flops;
      bytes += cost.bytes;
      os << "  " << op->getName() << " '" << mlg::nodeName(op->getLoc())
         << "': flops " << llvm::format("%.0f", cost.flops) << ", bytes "
         << llvm::format("%.0f", cost.bytes) << ", "
         << (cost.free ? "free" : cost.matrix ? "matrix" : "vector") << ", "
         << llvm::format("%.3f", seconds * 1e6) << " us"
         << (device.isMeasured(op) ? " (measured)" : "") << "\n";
    });
    os << "  total: flops " << llvm::format("%.0f", flops) << ", bytes "
       << llvm::format("%.0f", bytes) << ", "
       << llvm::format("%.3f", total * 1e6) << " us\n";
  }
};

} // namespace

namespace mlg::test {
void registerTestCostModelPass() { PassRegistration<TestCostModelPass>(); }
} // namespace mlg::test
