//===- MLGToRuntime.cpp - lower planned mlg functions to programs ---------===//
//
// Implements -convert-mlg-to-runtime. Each planned function becomes one
// mlgrt.program: a walk in schedule order that maps every tensor value to
// a memref (an arena buffer at its planned offset, a persistent tensor, or a
// constant) and every computing op to a step. Example:
//
//   func.func @f(%x: tensor<4xf32> {mlg.offset = 0}) -> tensor<4xf32>
//       attributes {mlg.arena_size = 256} {
//     %0 = mlg.relu %x {mlg.offsets = array<i64: 0>} : tensor<4xf32>
//     return %0 : tensor<4xf32>
//   }
// becomes
//   mlgrt.program @f {arena_size = 256, ...} {
//     %0 = mlgrt.buffer 0 : memref<4xf32>
//     mlgrt.input "x" %0 : memref<4xf32>
//     %1 = mlgrt.buffer 0 : memref<4xf32>
//     mlgrt.step "relu" (%0) -> (%1) {...}
//     mlgrt.output "output" %1 : memref<4xf32>
//   }
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLGRT/MLGRTOps.h"
#include "mlg/Passes/Analysis/CostModel.h"
#include "mlg/Passes/Analysis/EdgeUseRef.h"
#include "mlg/Passes/Transforms/MemoryPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/StringSet.h"

#define DEBUG_TYPE "convert-mlg-to-runtime"

namespace mlg {
#define GEN_PASS_DEF_CONVERTMLGTORUNTIME
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

namespace {

MemRefType memrefOf(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// Lowers one function into a program placed before it.
class FunctionLowering {
public:
  FunctionLowering(func::FuncOp func, SymbolTable &symbols)
      : func(func), symbols(symbols), builder(func) {}

  LogicalResult run() {
    EdgeUseRef analysis(func);
    if (failed(verifyMemoryPlan(func, analysis)))
      return failure();
    // What dies with each step, for the runtime's poisoning: every buffer at
    // the end of its interval (values returned live past the last step).
    for (const EdgeUseRef::Buffer &buffer : analysis.getBuffers()) {
      if (buffer.workspaceOf || buffer.interval.bytes == 0)
        continue; // the runtime knows when a workspace ends
      Operation *last = analysis.getSteps()[buffer.interval.end];
      if (last->hasTrait<OpTrait::IsTerminator>())
        continue;
      std::optional<int64_t> offset =
          getPlannedOffset(analysis.getValues()[buffer.root].value);
      releases[last].append({*offset, buffer.interval.bytes});
    }
    auto module = func->getParentOfType<ModuleOp>();
    StringAttr source =
        module ? module->getAttrOfType<StringAttr>("mlg.source") : nullptr;
    std::optional<int64_t> budget = getMemoryBudget(func);
    program = rt::ProgramOp::create(
        builder, func.getLoc(), func.getSymName(), *getPlannedArenaSize(func),
        /*num_streams=*/1, /*num_events=*/0, source, /*host_size=*/nullptr,
        budget ? builder.getI64IntegerAttr(*budget) : IntegerAttr());
    program.getBody().emplaceBlock();
    builder.setInsertionPointToStart(&program.getBody().front());

    for (BlockArgument arg : func.getArguments()) {
      Value buffer = arenaBuffer(arg);
      if (!buffer)
        return func.emitError("argument ")
               << arg.getArgNumber() << " has no planned offset";
      auto name =
          func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mlg.name");
      rt::InputOp::create(
          builder, func.getLoc(),
          name ? name.getValue()
               : StringRef("input" + std::to_string(arg.getArgNumber())),
          buffer);
    }
    for (Operation &op : func.getBody().front())
      if (failed(lower(op)))
        return failure();
    return success();
  }

private:
  Value arenaBuffer(Value value) {
    std::optional<int64_t> offset = getPlannedOffset(value);
    if (!offset)
      return nullptr;
    Value buffer =
        rt::BufferOp::create(builder, value.getLoc(), memrefOf(value.getType()),
                             builder.getI64IntegerAttr(*offset));
    mapping.map(value, buffer);
    return buffer;
  }

  LogicalResult lower(Operation &op) {
    // Releases of ops that make no step (views) move to the next step.
    if (auto it = releases.find(&op); it != releases.end())
      pendingReleases.append(it->second);
    Location loc = op.getLoc();
    if (auto load = dyn_cast<ml_program::GlobalLoadOp>(op)) {
      StringRef name = load.getGlobal().getLeafReference();
      globalOf[load.getResult()] = name;
      return persistent(load.getResult(), name);
    }
    if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op))
      return persistent(load.getResult(), load.getGlobal().getLeafReference());
    if (auto constant = dyn_cast<mlg::ConstantOp>(op)) {
      mapping.map(constant.getResult(),
                  rt::ConstantOp::create(builder, loc,
                                         memrefOf(constant.getType()),
                                         constant.getValue()));
      return success();
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, value] : llvm::enumerate(ret.getOperands())) {
        auto name = func.getResultAttrOfType<StringAttr>(i, "mlg.name");
        rt::OutputOp::create(builder, loc,
                             name ? name.getValue()
                                  : StringRef("output" + std::to_string(i)),
                             mapping.lookup(value));
      }
      return success();
    }
    if (auto reshape = dyn_cast<mlg::ReshapeOp>(op)) {
      // A view: the same memory under the result's shape.
      if (arenaBuffer(reshape.getResult()))
        return success();
      Operation *source = mapping.lookup(reshape.getInput()).getDefiningOp();
      if (auto p = dyn_cast<rt::PersistentOp>(source)) {
        if (failed(checkNotUpdated(&op, reshape.getInput())))
          return failure();
        globalOf[reshape.getResult()] = globalOf.lookup(reshape.getInput());
        mapping.map(reshape.getResult(),
                    rt::PersistentOp::create(
                        builder, loc, memrefOf(reshape.getType()), p.getName(),
                        p.getKind(), p.getInitAttr()));
        return success();
      }
      return op.emitError("reshape of a constant should have folded");
    }
    SmallVector<Value> inputs, outputs;
    StringRef kernel = op.getName().stripDialect();
    for (Value operand : op.getOperands()) {
      if (failed(checkNotUpdated(&op, operand)))
        return failure();
      inputs.push_back(mapping.lookup(operand));
    }
    if (auto store = dyn_cast<ml_program::GlobalStoreOp>(op)) {
      // A copy into the persistent tensor (batch norm's running statistics).
      kernel = "copy";
      FailureOr<Value> target = persistentOf(
          loc, FlatSymbolRefAttr::get(store.getGlobal().getLeafReference()),
          store.getValue().getType());
      if (failed(target))
        return failure();
      outputs.push_back(*target);
      updated.insert(store.getGlobal().getLeafReference());
    } else if (!isa<MLGDialect>(op.getDialect())) {
      return op.emitError("cannot lower '")
             << op.getName() << "' to a runtime step";
    }
    if (auto update = dyn_cast<GlobalUpdateOpInterface>(op)) {
      // Updates in place: the globals it writes are the step's outputs, the
      // globals it only reads come after the tensor operands.
      for (FlatSymbolRefAttr read : update.getReadGlobals()) {
        FailureOr<Value> p = persistentOf(loc, read, Type());
        if (failed(p))
          return failure();
        inputs.push_back(*p);
      }
      for (FlatSymbolRefAttr written : update.getWrittenGlobals()) {
        FailureOr<Value> p = persistentOf(loc, written, Type());
        if (failed(p))
          return failure();
        outputs.push_back(*p);
        updated.insert(written.getValue());
      }
    }
    for (Value result : op.getResults()) {
      Value buffer = arenaBuffer(result);
      if (!buffer)
        return op.emitError("result #")
               << cast<OpResult>(result).getResultNumber()
               << " has no planned offset";
      outputs.push_back(buffer);
    }
    // The op's own attributes; the plan's and symbols are not the kernel's.
    SmallVector<NamedAttribute> attrs;
    if (!isa<ml_program::GlobalStoreOp>(op))
      for (NamedAttribute attr : op.getAttrDictionary())
        if (!attr.getName().getValue().starts_with("mlg.") &&
            !isa<SymbolRefAttr>(attr.getValue()))
          attrs.push_back(attr);
    DenseI64ArrayAttr workspace;
    if (auto ws = getPlannedWorkspace(&op))
      workspace = builder.getDenseI64ArrayAttr({ws->first, ws->second});
    std::string name = nodeName(loc);
    DenseI64ArrayAttr release;
    if (!pendingReleases.empty())
      release = builder.getDenseI64ArrayAttr(pendingReleases);
    pendingReleases.clear();
    rt::StepOp::create(
        builder, loc, kernel, inputs, outputs, builder.getDictionaryAttr(attrs),
        workspace, /*stream=*/0, builder.getDenseI64ArrayAttr({}),
        /*record=*/-1,
        name.empty() ? StringAttr() : builder.getStringAttr(name), release);
    return success();
  }

  /// A value read from a global after an op updated it in place would see
  /// the new contents: the training-step builder orders updates after the
  /// last read, and this checks it.
  LogicalResult checkNotUpdated(Operation *op, Value operand) {
    StringRef name = globalOf.lookup(operand);
    if (name.empty() || !updated.contains(name))
      return success();
    return op->emitError("reads @")
           << name << " after an earlier step updated it in place";
  }

  /// The persistent tensor of global `symbol` (of its own type if `type` is
  /// null).
  FailureOr<Value> persistentOf(Location loc, FlatSymbolRefAttr symbol,
                                Type type) {
    auto global = symbols.lookup<ml_program::GlobalOp>(symbol.getValue());
    if (!global)
      return emitError(loc, "names the unknown global ") << symbol;
    Type t = type ? type : global.getType();
    rt::PersistentKind kind = persistentKind(global);
    rt::PersistentInitAttr init = initOf(global);
    return rt::PersistentOp::create(builder, loc, memrefOf(t),
                                    symbol.getValue(), kind, init)
        .getResult();
  }

  rt::PersistentKind persistentKind(ml_program::GlobalOp global) {
    if (!global.getIsMutable())
      return rt::PersistentKind::table;
    auto role = global->getAttrOfType<StringAttr>("mlg.role");
    return role && role.getValue() == "state" ? rt::PersistentKind::state
                                              : rt::PersistentKind::parameter;
  }

  rt::PersistentInitAttr initOf(ml_program::GlobalOp global) {
    if (auto name = global->getAttrOfType<StringAttr>("mlg.init"))
      if (auto parsed = rt::symbolizePersistentInit(name.getValue()))
        return rt::PersistentInitAttr::get(builder.getContext(), *parsed);
    return {};
  }

  LogicalResult persistent(Value value, StringRef symbol) {
    auto global = symbols.lookup<ml_program::GlobalOp>(symbol);
    if (!global)
      return func.emitError("loads the unknown global @") << symbol;
    rt::PersistentKind kind = persistentKind(global);
    rt::PersistentInitAttr init = initOf(global);
    mapping.map(value, rt::PersistentOp::create(builder, value.getLoc(),
                                                memrefOf(value.getType()),
                                                symbol, kind, init));
    return success();
  }

  func::FuncOp func;
  SymbolTable &symbols;
  OpBuilder builder;
  rt::ProgramOp program;
  IRMapping mapping;
  DenseMap<Operation *, SmallVector<int64_t>> releases;
  /// The global each persistent value (a load or a view of one) reads.
  DenseMap<Value, StringRef> globalOf;
  /// Globals some earlier step wrote.
  llvm::StringSet<> updated;
  SmallVector<int64_t> pendingReleases;
};

struct ConvertMLGToRuntimePass
    : mlg::impl::ConvertMLGToRuntimeBase<ConvertMLGToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    SmallVector<func::FuncOp> funcs;
    for (auto func : module.getOps<func::FuncOp>())
      if (!func.isExternal())
        funcs.push_back(func);
    for (func::FuncOp func : funcs)
      if (failed(FunctionLowering(func, symbols).run()))
        return signalPassFailure();
    // The programs replace the functions, and name the globals they use.
    for (func::FuncOp func : funcs)
      func.erase();
    for (auto global :
         llvm::make_early_inc_range(module.getOps<ml_program::GlobalOp>()))
      global.erase();
  }
};

} // namespace
