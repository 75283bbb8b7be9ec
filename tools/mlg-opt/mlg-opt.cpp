//===- mlg-opt.cpp - the mlg optimizer driver -----------------------------===//
//
// mlir-opt with every mlg dialect and pass, that also reads ONNX files: an
// input ending in `.onnx` is imported (with the shape-binding options below)
// and then goes through the same pass pipeline and printer as MLIR input.
// `-o FILE` is written atomically.
//
//===----------------------------------------------------------------------===//

#include "mlg/Import/Onnx/OnnxImporter.h"
#include "mlg/InitAll.h"
#include "mlg/Report/MemoryReport.h"
#include "mlg/Support/FileUtils.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace mlg::test {
void registerTestCostModelPass();
void registerTestEdgeUseRefPass();
} // namespace mlg::test

static cl::OptionCategory
    importCategory("ONNX import options (for .onnx inputs)");

static cl::opt<int64_t> batchSize(
    "batch-size",
    cl::desc("Bind the symbolic leading dimension of every input to N"),
    cl::value_desc("N"), cl::init(-1), cl::cat(importCategory));
static cl::list<std::string>
    inputShapes("input-shape",
                cl::desc("Bind the whole shape of an input, e.g. input:1000x64 "
                         "(repeatable)"),
                cl::value_desc("NAME:AxBxC"), cl::cat(importCategory));
static cl::list<std::string>
    bindInputs("bind-input",
               cl::desc("Replace an input by the value in a serialized ONNX "
                        "TensorProto file (repeatable)"),
               cl::value_desc("NAME=FILE"), cl::cat(importCategory));
static cl::opt<bool>
    importWeights("import-weights",
                  cl::desc("Load all initializer data as dense_resource blobs "
                           "(write bytecode with --emit-bytecode then)"),
                  cl::cat(importCategory));
static cl::opt<std::string> memoryReport(
    "mlg-memory-report",
    cl::desc("After the pipeline, write the memory report of every function to "
             "FILE.json and plot the main one in FILE.svg"),
    cl::value_desc("FILE.json"));
static cl::opt<bool>
    listOnnxOps("list-onnx-ops",
                cl::desc("Print the ONNX operators mlg imports and exit"),
                cl::cat(importCategory));

static bool isOnnxFile(StringRef path) {
  return llvm::sys::path::extension(path).equals_insensitive(".onnx");
}

/// Prints "file: node 'name': error: message" for imported locations.
static void printLocation(raw_ostream &os, Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc)) {
    if (auto file = dyn_cast<FileLineColLoc>(name.getChildLoc()))
      os << file.getFilename().getValue() << ": ";
    os << "node '" << name.getName().getValue() << "'";
    return;
  }
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    os << file.getFilename().getValue();
    if (file.getLine())
      os << ":" << file.getLine() << ":" << file.getColumn();
    return;
  }
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && !fused.getLocations().empty())
    return printLocation(os, fused.getLocations().front());
  os << loc;
}

static const char *severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

static void printDiagnostic(Diagnostic &diag) {
  raw_ostream &os = llvm::errs();
  printLocation(os, diag.getLocation());
  os << ": " << severityName(diag.getSeverity()) << ": " << diag << "\n";
  for (Diagnostic &note : diag.getNotes()) {
    printLocation(os, note.getLocation());
    os << ": note: " << note << "\n";
  }
}

namespace {
/// Whether --mlg-memory-report has been written, shared by the two places
/// that may write it.
struct ReportState {
  std::string path;
  bool written = false;
  std::string error;

  void write(Operation *op) {
    written = true;
    auto module = dyn_cast<ModuleOp>(op);
    if (!module)
      module = op->getParentOfType<ModuleOp>();
    if (module && !mlg::writeMemoryReport(module, path, error) && error.empty())
      error = "unknown error";
  }
};

/// Writes the report right before convert-mlg-to-runtime replaces the
/// functions by programs.
struct ReportBeforeLowering : PassInstrumentation {
  explicit ReportBeforeLowering(std::shared_ptr<ReportState> state)
      : state(std::move(state)) {}
  void runBeforePass(Pass *pass, Operation *op) override {
    if (!state->written && pass->getArgument() == "convert-mlg-to-runtime")
      state->write(op);
  }
  std::shared_ptr<ReportState> state;
};

/// Writes the report at the end of the pipeline if nothing lowered it, and
/// fails the pipeline if writing it failed.
struct FinalReportPass : PassWrapper<FinalReportPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FinalReportPass)
  explicit FinalReportPass(std::shared_ptr<ReportState> state)
      : state(std::move(state)) {}
  StringRef getArgument() const final { return "mlg-final-memory-report"; }
  void runOnOperation() override {
    if (!state->written)
      state->write(getOperation());
    if (!state->error.empty()) {
      getOperation().emitError("cannot write the memory report: ")
          << state->error;
      return signalPassFailure();
    }
    markAllAnalysesPreserved();
  }
  std::shared_ptr<ReportState> state;
};
} // namespace

static LogicalResult processOnnx(StringRef path, raw_ostream &os,
                                 DialectRegistry &registry,
                                 const MlirOptMainConfig &config,
                                 const mlg::OnnxImportOptions &options) {
  MLIRContext context(registry);
  ScopedDiagnosticHandler handler(&context, [](Diagnostic &diag) {
    printDiagnostic(diag);
    return success();
  });
  OwningOpRef<ModuleOp> module = mlg::importOnnxFile(path, &context, options);
  if (!module)
    return failure();
  PassManager pm(&context, ModuleOp::getOperationName(),
                 OpPassManager::Nesting::Implicit);
  pm.enableVerifier(config.shouldVerifyPasses());
  if (failed(applyPassManagerCLOptions(pm)))
    return failure();
  DefaultTimingManager timing;
  applyDefaultTimingManagerCLOptions(timing);
  TimingScope timingScope = timing.getRootScope();
  pm.enableTiming(timingScope);
  if (failed(config.setupPassPipeline(pm)) || failed(pm.run(*module)))
    return failure();
  if (config.shouldEmitBytecode()) {
    BytecodeWriterConfig writerConfig;
    if (auto version = config.bytecodeVersionToEmit())
      writerConfig.setDesiredBytecodeVersion(*version);
    return writeBytecodeToFile(*module, os, writerConfig);
  }
  module->print(os);
  os << "\n";
  return success();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  DialectRegistry registry;
  mlg::registerAllDialects(registry);
  mlg::registerAllPasses();
  mlg::test::registerTestCostModelPass();
  mlg::test::registerTestEdgeUseRefPass();

  auto [inputFilename, outputFilename] = registerAndParseCLIOptions(
      argc, argv,
      "mlg optimizer driver: reads .mlir, MLIR bytecode or .onnx, runs passes",
      registry);
  if (listOnnxOps) {
    for (const std::string &op : mlg::getSupportedOnnxOps())
      llvm::outs() << op << "\n";
    return 0;
  }
  MlirOptMainConfig config = MlirOptMainConfig::createFromCLOptions();
  if (!memoryReport.empty()) {
    // The report describes the last state in which functions exist: just
    // before they are lowered to programs, or else after the pipeline.
    MlirOptMainConfig base = config;
    config.setPassPipelineSetupFn([base](PassManager &pm) -> LogicalResult {
      if (failed(base.setupPassPipeline(pm)))
        return failure();
      auto state = std::make_shared<ReportState>();
      state->path = memoryReport;
      pm.addInstrumentation(std::make_unique<ReportBeforeLowering>(state));
      pm.addPass(std::make_unique<FinalReportPass>(state));
      return success();
    });
  }
  auto fail = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "mlg-opt") << message << "\n";
    return 1;
  };

  std::string error;
  std::unique_ptr<mlg::AtomicOutputFile> output =
      mlg::AtomicOutputFile::open(outputFilename, error);
  if (!output)
    return fail(error);

  LogicalResult result = failure();
  if (isOnnxFile(inputFilename)) {
    mlg::OnnxImportOptions options;
    if (batchSize.getNumOccurrences()) {
      if (batchSize <= 0)
        return fail("--batch-size must be positive");
      options.batchSize = batchSize;
    }
    for (const std::string &spec : inputShapes) {
      std::string name;
      std::vector<int64_t> dims;
      if (!mlg::parseInputShapeSpec(spec, name, dims, error))
        return fail("--input-shape: " + error);
      options.inputShapes.emplace_back(name, dims);
    }
    for (const std::string &spec : bindInputs) {
      std::string name, path;
      if (!mlg::parseBindInputSpec(spec, name, path, error))
        return fail("--bind-input: " + error);
      options.boundInputs.emplace_back(name, path);
    }
    options.importWeights = importWeights;
    result =
        processOnnx(inputFilename, output->os(), registry, config, options);
  } else {
    std::unique_ptr<llvm::MemoryBuffer> buffer =
        openInputFile(inputFilename, &error);
    if (!buffer)
      return fail(error);
    result = MlirOptMain(output->os(), std::move(buffer), registry, config);
  }
  if (failed(result))
    return 1;
  if (!output->commit(error))
    return fail(error);
  return 0;
}
