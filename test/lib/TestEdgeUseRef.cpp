//===- TestEdgeUseRef.cpp - print the edge use-ref analysis ---------------===//
//
// -test-mlg-edge-use-ref prints, for every function, each value's kind,
// size, interval, references and buffer, each buffer, and LOAD with what is
// live at the peak. Test-only: lit tests check the analysis through it.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

const char *kindName(mlg::EdgeUseRef::Kind kind) {
  switch (kind) {
  case mlg::EdgeUseRef::Kind::Input:
    return "input";
  case mlg::EdgeUseRef::Kind::Result:
    return "result";
  case mlg::EdgeUseRef::Kind::View:
    return "view";
  case mlg::EdgeUseRef::Kind::InPlace:
    return "in-place";
  case mlg::EdgeUseRef::Kind::Parameter:
    return "parameter";
  case mlg::EdgeUseRef::Kind::Constant:
    return "constant";
  }
  return "?";
}

struct TestEdgeUseRefPass
    : PassWrapper<TestEdgeUseRefPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TestEdgeUseRefPass)
  StringRef getArgument() const final { return "test-mlg-edge-use-ref"; }
  StringRef getDescription() const final {
    return "Print the edge use-ref analysis of every function";
  }

  void runOnOperation() override {
    auto &a = getAnalysis<mlg::EdgeUseRef>();
    raw_ostream &os = llvm::outs();
    os << "edge-use-ref @" << getOperation().getSymName() << ": "
       << a.getSteps().size() << " steps, LOAD " << a.getLoad()
       << " bytes at step " << a.getPeakStep();
    if (!a.getSteps().empty())
      os << " (" << a.describe(a.getSteps()[a.getPeakStep()]) << ")";
    os << "\n";
    for (unsigned v = 0; v < a.getValues().size(); ++v) {
      const auto &info = a.getValues()[v];
      os << "  value " << a.describe(v) << ": " << kindName(info.kind) << ", "
         << info.bytes << " bytes, steps [" << info.def << ", " << info.lastUse
         << "], refs " << info.refs;
      if (info.buffer >= 0)
        os << ", buffer " << info.buffer;
      os << "\n";
    }
    for (unsigned b = 0; b < a.getBuffers().size(); ++b) {
      const auto &buf = a.getBuffers()[b];
      os << "  buffer " << b << ": " << buf.interval.bytes << " bytes, steps ["
         << buf.interval.start << ", " << buf.interval.end << "], ";
      if (buf.workspaceOf)
        os << "workspace of " << a.describe(buf.workspaceOf);
      else
        os << buf.values.size() << " value(s)";
      os << "\n";
    }
    os << "  live at the peak:";
    for (unsigned b : a.getBuffersLiveAt(a.getPeakStep()))
      os << " " << b << " (" << a.getBuffers()[b].interval.bytes << ")";
    os << "\n  parameters " << a.getParameterBytes() << " bytes, constants "
       << a.getConstantBytes() << " bytes, inputs " << a.getInputBytes()
       << " bytes\n";
    markAllAnalysesPreserved();
  }
};

} // namespace

namespace mlg::test {
void registerTestEdgeUseRefPass() { PassRegistration<TestEdgeUseRefPass>(); }
} // namespace mlg::test
