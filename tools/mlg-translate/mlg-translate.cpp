//===- mlg-translate.cpp - translations to and from mlg's formats ---------===//
//
// mlir-translate for mlg: --mlg-to-program writes a runtime program to a
// .mlgp file, --mlg-program-to-mlir reads one back. `-o FILE` is written
// atomically; a failing translation leaves no file.
//
//===----------------------------------------------------------------------===//

#include "mlg/InitAll.h"
#include "mlg/Support/FileUtils.h"
#include "mlg/Target/Program/Program.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/WithColor.h"

using namespace mlir;
namespace cl = llvm::cl;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlg::registerProgramTranslations();
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  static cl::opt<std::string> input(cl::Positional, cl::desc("<input file>"),
                                    cl::init("-"));
  static cl::opt<std::string> output("o", cl::desc("Output file"),
                                     cl::value_desc("filename"), cl::init("-"));
  static cl::opt<const Translation *, false, TranslationParser> translation(
      cl::desc("Translation to perform"), cl::Required);
  cl::ParseCommandLineOptions(argc, argv, "mlg translation driver\n");

  auto fail = [](const Twine &message) {
    llvm::WithColor::error(llvm::errs(), "mlg-translate") << message << "\n";
    return 1;
  };
  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer = openInputFile(input, &error);
  if (!buffer)
    return fail(error);
  auto output_ = mlg::AtomicOutputFile::open(output, error);
  if (!output_)
    return fail(error);

  DialectRegistry registry;
  mlg::registerAllDialects(registry);
  MLIRContext context(registry);
  auto sourceMgr = std::make_shared<llvm::SourceMgr>();
  sourceMgr->AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(*sourceMgr, &context);
  if (failed((*translation)(sourceMgr, output_->os(), &context)))
    return 1;
  if (!output_->commit(error))
    return fail(error);
  return 0;
}
