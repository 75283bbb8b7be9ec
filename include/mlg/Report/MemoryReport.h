//===- MemoryReport.h - where the memory of a program goes ------*- C++ -*-===//
//
// The memory report over the edge use-ref analysis and, if the function is
// planned, its memory plan: a JSON document (peak, LOAD, arena, parameters,
// every tensor's interval and offset, the largest tensors at the peak) and an
// SVG plot of live bytes over the schedule with the peak marked and the
// biggest tensors named. A library function, so that an embedding compiler
// can write it too; mlg-opt writes it with --mlg-memory-report=FILE.json.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_REPORT_MEMORYREPORT_H
#define MLG_REPORT_MEMORYREPORT_H

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/raw_ostream.h"

namespace mlg {

struct MemoryReportOptions {
  /// How many of the largest tensors live at the peak to list and name.
  unsigned largestAtPeak = 10;
};

/// One function's report as a JSON object (see docs in the .cpp).
void writeMemoryReportJson(mlir::FunctionOpInterface function,
                           const EdgeUseRef &analysis, llvm::raw_ostream &os,
                           const MemoryReportOptions &options = {});

/// One function's live bytes over its schedule as an SVG image.
void writeMemoryReportSvg(mlir::FunctionOpInterface function,
                          const EdgeUseRef &analysis, llvm::raw_ostream &os,
                          const MemoryReportOptions &options = {});

/// Writes the report of every function of `module` to `jsonPath` and the plot
/// of the one with the largest LOAD beside it (the same path ending in .svg).
/// Both files are written atomically. Returns false with `error` set on
/// failure.
bool writeMemoryReport(mlir::ModuleOp module, llvm::StringRef jsonPath,
                       std::string &error,
                       const MemoryReportOptions &options = {});

} // namespace mlg

#endif // MLG_REPORT_MEMORYREPORT_H
