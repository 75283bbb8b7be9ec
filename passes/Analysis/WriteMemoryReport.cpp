//===- WriteMemoryReport.cpp - the memory report as a pass ----------------===//
//
// Implements -mlg-write-memory-report: a thin shell over
// mlg::writeMemoryReport (lib/Report), which does the work.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"
#include "mlg/Report/MemoryReport.h"

#define DEBUG_TYPE "mlg-write-memory-report"

namespace mlg {
#define GEN_PASS_DEF_WRITEMEMORYREPORT
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;

namespace {
struct WriteMemoryReportPass
    : mlg::impl::WriteMemoryReportBase<WriteMemoryReportPass> {
  using WriteMemoryReportBase::WriteMemoryReportBase;

  void runOnOperation() override {
    std::string error;
    mlg::MemoryReportOptions options;
    options.largestAtPeak = largestAtPeak;
    if (!mlg::writeMemoryReport(getOperation(), output, error, options)) {
      getOperation().emitError("cannot write the memory report: ") << error;
      return signalPassFailure();
    }
    markAllAnalysesPreserved();
  }
};
} // namespace
