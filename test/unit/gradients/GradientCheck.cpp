// GradientCheck.cpp - an op's gradient against central finite differences.

#include "GradientCheck.h"

#include "onnx_io.h"
#include "program.h"
#include "session.h"

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/InitAll.h"
#include "mlg/Target/Program/Program.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <sstream>

using namespace mlir;

namespace mlg::test {
namespace {

/// Everything that went wrong, for the assertion's message.
struct Failure {
  std::string message;
  explicit operator bool() const { return !message.empty(); }
};

/// Collects MLIR diagnostics into a string.
struct DiagnosticCollector {
  explicit DiagnosticCollector(MLIRContext &ctx)
      : handler(&ctx, [this](Diagnostic &d) {
          text += d.str() + "\n";
          return success();
        }) {}
  std::string text;
  ScopedDiagnosticHandler handler;
};

/// Appends L = sum_k sum(output_k * R_k) to @forward and returns it alone.
LogicalResult addLoss(func::FuncOp func, std::mt19937_64 &rng) {
  auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
  OpBuilder b(ret);
  Location loc = ret.getLoc();
  std::normal_distribution<double> normal;
  Value total;
  for (Value out : ret.getOperands()) {
    auto type = dyn_cast<RankedTensorType>(out.getType());
    if (!type || !type.getElementType().isF64())
      return func.emitError("gradient checks need f64 outputs");
    SmallVector<double> r(type.getNumElements());
    for (double &v : r)
      v = normal(rng);
    Value weights = ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, ArrayRef<double>(r)));
    Value product = MulOp::create(b, loc, out, weights);
    SmallVector<int64_t> axes;
    for (int64_t i = 0; i < type.getRank(); ++i)
      axes.push_back(i);
    Value sum = product;
    if (!axes.empty())
      sum = ReduceSumOp::create(b, loc, product, b.getDenseI64ArrayAttr(axes),
                                b.getBoolAttr(false));
    total = total ? AddOp::create(b, loc, total, sum).getResult() : sum;
  }
  ret->setOperands(total);
  func.setFunctionType(FunctionType::get(
      func.getContext(), func.getArgumentTypes(), {total.getType()}));
  DictionaryAttr empty = DictionaryAttr::get(func.getContext());
  func.setAllResultAttrs(ArrayRef<DictionaryAttr>(empty));
  return success();
}

/// Runs `pipeline` (passes on the module, without the builtin.module(...)
/// anchor) on `module` and loads the program it lowers to.
Failure compile(ModuleOp module, const std::string &pipeline,
                std::shared_ptr<const mlg_rt::Program> *out) {
  DiagnosticCollector diagnostics(*module.getContext());
  PassManager pm(module.getContext());
  std::string error;
  llvm::raw_string_ostream errorStream(error);
  if (failed(parsePassPipeline(pipeline, pm, errorStream)))
    return {"bad pipeline: " + error};
  if (failed(pm.run(module)))
    return {"compilation failed:\n" + diagnostics.text};
  if (getenv("MLG_GRADIENT_CHECK_DUMP"))
    module.dump();
  std::string bytes;
  llvm::raw_string_ostream os(bytes);
  if (failed(mlg::writeProgram(module, os)))
    return {"writing the program failed:\n" + diagnostics.text};
  os.flush();
  mlg_rt::Status s = mlg_rt::Program::load(bytes.data(), bytes.size(), out);
  if (!s.ok())
    return {"loading the program failed: " + s.message()};
  return {};
}

Failure open(std::shared_ptr<const mlg_rt::Program> program,
             std::unique_ptr<mlg_rt::Session> *session) {
  mlg_rt::SessionOptions options;
  options.poison = true;
  mlg_rt::Status s = mlg_rt::Session::create(program, options, session);
  if (s.ok())
    s = (*session)->initWeights(0);
  return s.ok() ? Failure{} : Failure{"session: " + s.message()};
}

Failure runOnce(mlg_rt::Session &session,
                const std::vector<mlg_rt::HostTensor> &inputs) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    mlg_rt::Status s = session.setInput(i, inputs[i]);
    if (!s.ok())
      return {"input " + std::to_string(i) + ": " + s.message()};
  }
  mlg_rt::Status s = session.run();
  return s.ok() ? Failure{} : Failure{"run: " + s.message()};
}

double *f64Data(mlg_rt::HostTensor &t) {
  return reinterpret_cast<double *>(t.data.data());
}

double scalarOutput(const mlg_rt::Session &session, size_t index) {
  mlg_rt::HostTensor t = session.output(index);
  double v;
  std::memcpy(&v, t.data.data(), sizeof v);
  return v;
}

MLIRContext &context() {
  static MLIRContext *ctx = [] {
    DialectRegistry registry;
    mlg::registerAllDialects(registry);
    auto *c = new MLIRContext(registry);
    c->loadAllAvailableDialects();
    mlg::registerAllPasses();
    return c;
  }();
  return *ctx;
}

} // namespace

::testing::AssertionResult checkGradient(const std::string &forwardFunction,
                                         const GradientCheckOptions &options) {
  static std::mutex mutex; // one MLIR context for every test
  std::lock_guard<std::mutex> lock(mutex);
  MLIRContext &ctx = context();
  DiagnosticCollector diagnostics(ctx);
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>("module {\n" + forwardFunction + "\n}", &ctx);
  if (!module)
    return ::testing::AssertionFailure()
           << "the forward function does not parse:\n"
           << diagnostics.text;
  auto func = module->lookupSymbol<func::FuncOp>("forward");
  if (!func)
    return ::testing::AssertionFailure() << "no @forward";
  std::mt19937_64 rng(options.seed);
  if (failed(addLoss(func, rng)))
    return ::testing::AssertionFailure() << diagnostics.text;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (!func.getArgAttr(i, "mlg.name"))
      func.setArgAttr(i, "mlg.name",
                      StringAttr::get(&ctx, "arg" + std::to_string(i)));

  // The inputs: random floats and integers, or the fixed values.
  std::vector<mlg_rt::HostTensor> inputs;
  std::vector<unsigned> perturbed;
  std::normal_distribution<double> normal;
  for (BlockArgument arg : func.getArguments()) {
    auto type = cast<RankedTensorType>(arg.getType());
    mlg_rt::HostTensor t;
    t.name =
        cast<StringAttr>(func.getArgAttr(arg.getArgNumber(), "mlg.name")).str();
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    int64_t n = type.getNumElements();
    const std::vector<double> *fixed = nullptr;
    for (auto &[index, values] : options.fixed)
      if (index == arg.getArgNumber())
        fixed = &values;
    Type e = type.getElementType();
    auto value = [&](int64_t i, double random) {
      return fixed ? (*fixed)[i % fixed->size()] : random;
    };
    if (e.isF64()) {
      t.dtype = mlg_rt::DType::F64;
      t.data.resize(n * 8);
      for (int64_t i = 0; i < n; ++i)
        f64Data(t)[i] = value(i, normal(rng) * options.scale + options.shift);
      if (!fixed)
        perturbed.push_back(arg.getArgNumber());
    } else if (e.isInteger(64) || e.isInteger(32) || e.isInteger(1)) {
      std::uniform_int_distribution<int64_t> uniform(options.intLow,
                                                     options.intHigh - 1);
      int bytes = e.isInteger(64) ? 8 : e.isInteger(32) ? 4 : 1;
      t.dtype = e.isInteger(64)   ? mlg_rt::DType::I64
                : e.isInteger(32) ? mlg_rt::DType::I32
                                  : mlg_rt::DType::Bool;
      t.data.resize(n * bytes);
      for (int64_t i = 0; i < n; ++i) {
        int64_t v = int64_t(value(i, double(uniform(rng))));
        if (e.isInteger(1))
          v = v != 0;
        std::memcpy(t.data.data() + i * bytes, &v, bytes);
      }
    } else {
      std::string name;
      llvm::raw_string_ostream os(name);
      os << type;
      return ::testing::AssertionFailure()
             << "argument " << arg.getArgNumber() << " has type " << name
             << "; gradient checks take f64, i64, i32 and i1";
    }
    inputs.push_back(std::move(t));
  }

  // Both programs (compiling erases @forward: keep what we need of it).
  std::vector<bool> isFloat;
  for (BlockArgument arg : func.getArguments())
    isFloat.push_back(cast<ShapedType>(arg.getType()).getElementType().isF64());
  OwningOpRef<ModuleOp> forwardModule = module->clone();
  std::shared_ptr<const mlg_rt::Program> forwardProgram, trainProgram;
  if (Failure f =
          compile(*forwardModule, "mlg-lower-pipeline", &forwardProgram))
    return ::testing::AssertionFailure() << "forward: " << f.message;
  if (Failure f = compile(*module,
                          "mlg-build-training-step{loss=none optimizer=none "
                          "input-gradients=true " +
                              options.stepOptions +
                              "},"
                              "func.func(mlg-dead-node-elim,mlg-fold-"
                              "gradient-sums),"
                              "mlg-lower-pipeline",
                          &trainProgram))
    return ::testing::AssertionFailure() << "training step: " << f.message;
  std::unique_ptr<mlg_rt::Session> forward, train;
  if (Failure f = open(forwardProgram, &forward))
    return ::testing::AssertionFailure() << f.message;
  if (Failure f = open(trainProgram, &train))
    return ::testing::AssertionFailure() << f.message;

  // Analytic gradients: output 1 + k is the k-th float argument's.
  if (Failure f = runOnce(*train, inputs))
    return ::testing::AssertionFailure() << "training step: " << f.message;
  if (Failure f = runOnce(*forward, inputs))
    return ::testing::AssertionFailure() << "forward: " << f.message;
  double loss = scalarOutput(*forward, 0);
  double trainLoss = scalarOutput(*train, 0);
  if (!(std::fabs(loss - trainLoss) <= 1e-9 * std::max(1.0, std::fabs(loss))))
    return ::testing::AssertionFailure()
           << "the training step's loss " << trainLoss
           << " differs from the forward's " << loss;

  std::ostringstream problems;
  size_t floatIndex = 0;
  for (unsigned argNumber = 0; argNumber < isFloat.size(); ++argNumber) {
    if (!isFloat[argNumber])
      continue;
    size_t output = 1 + floatIndex++;
    if (!llvm::is_contained(perturbed, argNumber))
      continue;
    mlg_rt::HostTensor analytic = train->output(output);
    mlg_rt::HostTensor &x = inputs[argNumber];
    int64_t n = int64_t(x.data.size() / 8);
    std::vector<double> numeric(n);
    double largest = 1.0;
    for (int64_t i = 0; i < n; ++i) {
      double saved = f64Data(x)[i];
      f64Data(x)[i] = saved + options.step;
      if (Failure f = runOnce(*forward, inputs))
        return ::testing::AssertionFailure() << f.message;
      double plus = scalarOutput(*forward, 0);
      f64Data(x)[i] = saved - options.step;
      if (Failure f = runOnce(*forward, inputs))
        return ::testing::AssertionFailure() << f.message;
      double minus = scalarOutput(*forward, 0);
      f64Data(x)[i] = saved;
      numeric[i] = (plus - minus) / (2 * options.step);
      largest = std::max(largest, std::fabs(numeric[i]));
    }
    const double *a = reinterpret_cast<const double *>(analytic.data.data());
    int shown = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (std::fabs(a[i] - numeric[i]) <= options.tolerance * largest)
        continue;
      if (shown++ < 5)
        problems << "argument '" << x.name << "' element " << i << ": gradient "
                 << a[i] << ", finite difference " << numeric[i] << "\n";
    }
  }
  if (!problems.str().empty())
    return ::testing::AssertionFailure() << problems.str();
  return ::testing::AssertionSuccess();
}

} // namespace mlg::test
