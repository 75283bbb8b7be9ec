//===- EdgeUseRef.cpp - the edge use-ref analysis -------------------------===//
//
// One pass over the schedule builds the values, a backward pass carries the
// last use of every view to what it aliases, and a second forward pass forms
// the buffers, joining in-place results into the buffer of an operand that
// dies at their op. LOAD is then a sweep over the buffers' intervals. See the
// header for the definitions.
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Analysis/EdgeUseRef.h"

#include "mlg/Dialect/MLG/MLGInterfaces.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlg;

std::vector<int64_t> mlg::liveBytesPerStep(ArrayRef<LiveInterval> intervals,
                                           int64_t numSteps) {
  // Difference array: +bytes at start, -bytes after end.
  std::vector<int64_t> delta(numSteps + 1, 0);
  for (const LiveInterval &i : intervals) {
    if (i.start >= numSteps || i.end < i.start)
      continue;
    delta[std::max<int64_t>(i.start, 0)] += i.bytes;
    delta[std::min<int64_t>(i.end, numSteps - 1) + 1] -= i.bytes;
  }
  std::vector<int64_t> live(numSteps, 0);
  int64_t sum = 0;
  for (int64_t s = 0; s < numSteps; ++s)
    live[s] = sum += delta[s];
  return live;
}

static int64_t bytesOf(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped ? checkedByteSize(shaped).value_or(0) : 0;
}

BufferLayout mlg::layoutBuffers(const ScheduleGraph &g) {
  BufferLayout out;
  int64_t numSteps = g.steps.size();
  out.values.resize(g.values.size());
  // Last uses; returned values are read by the terminator, the last step.
  for (unsigned v = 0; v < g.values.size(); ++v) {
    out.values[v].kind = g.values[v].kind;
    out.values[v].lastUse = std::max(g.values[v].def, 0);
  }
  for (int64_t s = 0; s < numSteps; ++s)
    for (unsigned v : g.steps[s].operands)
      out.values[v].lastUse = std::max(out.values[v].lastUse, s);
  // A view keeps what it aliases alive (chains resolve backwards, as a
  // view's source is defined before it).
  for (int64_t s = numSteps - 1; s >= 0; --s) {
    const ScheduleGraph::Step &step = g.steps[s];
    for (unsigned r : step.results)
      if (g.values[r].kind == ValueKind::View && !step.operands.empty()) {
        unsigned src = step.operands.front();
        out.values[src].lastUse =
            std::max(out.values[src].lastUse, out.values[r].lastUse);
      }
  }

  // Buffers, in schedule order.
  auto newBuffer = [&](unsigned v) {
    BufferLayout::Buffer b;
    b.root = v;
    b.interval = {std::max(g.values[v].def, 0), out.values[v].lastUse,
                  g.values[v].bytes};
    b.values.push_back(v);
    out.values[v].buffer = out.buffers.size();
    out.buffers.push_back(std::move(b));
  };
  auto join = [&](unsigned v, int buffer) {
    out.values[v].buffer = buffer;
    BufferLayout::Buffer &b = out.buffers[buffer];
    b.values.push_back(v);
    b.interval.end = std::max(b.interval.end, out.values[v].lastUse);
  };
  for (unsigned v = 0; v < g.values.size(); ++v)
    if (g.values[v].kind == ValueKind::Input)
      newBuffer(v);
  for (int64_t s = 0; s < numSteps; ++s) {
    const ScheduleGraph::Step &step = g.steps[s];
    for (unsigned pos = 0; pos < step.results.size(); ++pos) {
      unsigned r = step.results[pos];
      BufferLayout::ValueFacts &info = out.values[r];
      if (info.kind == ValueKind::View) {
        int src = step.operands.empty() ? -1 : int(step.operands.front());
        if (src >= 0 && out.values[src].buffer >= 0) {
          join(r, out.values[src].buffer);
          continue;
        }
        info.kind = ValueKind::Result;
      }
      if (info.kind != ValueKind::Result)
        continue;
      int chosen = -1;
      for (auto [resultPos, src] : step.inPlace) {
        if (resultPos != pos || out.values[src].buffer < 0)
          continue;
        const BufferLayout::Buffer &b = out.buffers[out.values[src].buffer];
        bool isArgument =
            b.root >= 0 && g.values[b.root].kind == ValueKind::Input;
        if (!isArgument && b.interval.end == s &&
            b.interval.bytes == g.values[r].bytes) {
          chosen = out.values[src].buffer;
          break;
        }
      }
      if (chosen >= 0) {
        info.kind = ValueKind::InPlace;
        join(r, chosen);
        continue;
      }
      newBuffer(r);
    }
    if (step.workspace > 0) {
      BufferLayout::Buffer b;
      b.interval = {s, s, step.workspace};
      b.workspaceOf = s;
      out.buffers.push_back(std::move(b));
    }
  }

  SmallVector<LiveInterval> intervals;
  intervals.reserve(out.buffers.size());
  for (const BufferLayout::Buffer &b : out.buffers)
    intervals.push_back(b.interval);
  out.liveBytes = liveBytesPerStep(intervals, numSteps);
  for (int64_t s = 0; s < numSteps; ++s) {
    if (out.liveBytes[s] > out.load) {
      out.load = out.liveBytes[s];
      out.peakStep = s;
    }
  }
  return out;
}

EdgeUseRef::EdgeUseRef(Operation *function) {
  if (function->getNumRegions() == 1 && function->getRegion(0).hasOneBlock())
    analyze(function->getRegion(0).front());
}

void EdgeUseRef::analyze(Block &block) {
  // The terminator is the last step: what it returns is live until then.
  for (Operation &op : block) {
    stepOf[&op] = steps.size();
    steps.push_back(&op);
  }
  graph.steps.resize(steps.size());

  auto addValue = [&](Value v, Kind kind, Operation *producer, int64_t def) {
    if (!isa<ShapedType>(v.getType()))
      return;
    ValueInfo info;
    info.value = v;
    info.kind = kind;
    info.bytes = bytesOf(v.getType());
    info.producer = producer;
    info.def = def;
    info.refs = std::distance(v.use_begin(), v.use_end());
    valueIndex[v] = values.size();
    graph.values.push_back({info.bytes, kind, producer ? int(def) : -1});
    if (producer)
      graph.steps[def].results.push_back(values.size());
    values.push_back(info);
  };
  for (BlockArgument arg : block.getArguments())
    addValue(arg, Kind::Input, nullptr, 0);
  llvm::StringSet<> globalsSeen;
  SymbolTableCollection symbolTables; // one lookup table, not a scan a name
  for (Operation *op : steps) {
    int64_t step = stepOf[op];
    for (Value result : op->getResults()) {
      Kind kind = Kind::Result;
      if (isa<ml_program::GlobalLoadOp>(op)) {
        kind = Kind::Parameter;
      } else if (isa<ml_program::GlobalLoadConstOp>(op) ||
                 op->hasTrait<OpTrait::ConstantLike>()) {
        kind = Kind::Constant;
      } else if (isa<ReshapeOp>(op)) {
        auto operand = lookup(op->getOperand(0));
        Kind operandKind = operand ? values[*operand].kind : Kind::Result;
        kind = operandKind == Kind::Parameter || operandKind == Kind::Constant
                   ? operandKind
                   : Kind::View;
      }
      addValue(result, kind, op, step);
    }
    // Persistent totals: each global once, each constant op once.
    if (auto load = dyn_cast<ml_program::GlobalLoadOp>(op)) {
      if (globalsSeen.insert(load.getGlobal().getLeafReference()).second)
        parameterBytes += bytesOf(load.getType());
    } else if (auto load = dyn_cast<ml_program::GlobalLoadConstOp>(op)) {
      if (globalsSeen.insert(load.getGlobal().getLeafReference()).second)
        constantBytes += bytesOf(load.getType());
    } else if (op->hasTrait<OpTrait::ConstantLike>()) {
      for (Value r : op->getResults())
        constantBytes += bytesOf(r.getType());
    } else {
      // Globals an op reads or writes in place without loading them (an
      // optimizer's velocities and moments, a store's target) count too.
      SmallVector<FlatSymbolRefAttr> named;
      if (auto store = dyn_cast<ml_program::GlobalStoreOp>(op))
        named.push_back(FlatSymbolRefAttr::get(
            store.getGlobal().getLeafReference()));
      if (auto update = dyn_cast<GlobalUpdateOpInterface>(op)) {
        named.append(update.getWrittenGlobals());
        named.append(update.getReadGlobals());
      }
      for (FlatSymbolRefAttr symbol : named) {
        if (!globalsSeen.insert(symbol.getValue()).second)
          continue;
        auto global =
            symbolTables.lookupNearestSymbolFrom<ml_program::GlobalOp>(
                op, symbol.getAttr());
        if (!global)
          continue;
        (global.getIsMutable() ? parameterBytes : constantBytes) +=
            bytesOf(global.getType());
      }
    }
  }

  // Uses, by the step of the op in this block that holds them.
  int lastStep = std::max<int>(int(steps.size()) - 1, 0);
  for (unsigned v = 0; v < values.size(); ++v) {
    for (Operation *user : values[v].value.getUsers()) {
      Operation *owner = block.findAncestorOpInBlock(*user);
      graph.steps[owner ? stepOf.lookup(owner) : lastStep].operands.push_back(
          v);
    }
  }
  // A view's source first (uses were added by value, and the source is
  // defined before the view).
  for (Operation *op : steps) {
    if (!isa<ReshapeOp>(op))
      continue;
    auto src = lookup(op->getOperand(0));
    auto &operands = graph.steps[stepOf[op]].operands;
    if (src)
      if (auto it = llvm::find(operands, *src); it != operands.end())
        std::iter_swap(operands.begin(), it);
  }
  // The operands each result may be written over: any for an in-place
  // elementwise op's first result, the one an op names otherwise. Same
  // shape, not only the same bytes: a broadcast operand or a per-channel
  // parameter of equal size is not overwritten.
  for (Operation *op : steps) {
    ScheduleGraph::Step &step = graph.steps[stepOf[op]];
    for (Value result : op->getResults()) {
      auto idx = lookup(result);
      if (!idx)
        continue;
      unsigned resultNumber = cast<OpResult>(result).getResultNumber();
      SmallVector<Value, 4> candidates;
      if (op->hasTrait<InPlaceElementwise>() && resultNumber == 0)
        candidates.append(op->operand_begin(), op->operand_end());
      else if (auto inPlace = dyn_cast<InPlaceResultsOpInterface>(op))
        if (std::optional<unsigned> n = inPlace.getInPlaceOperand(resultNumber))
          candidates.push_back(op->getOperand(*n));
      unsigned pos = llvm::find(step.results, *idx) - step.results.begin();
      for (Value operand : candidates) {
        auto src = lookup(operand);
        if (src && cast<ShapedType>(operand.getType()).getShape() ==
                       cast<ShapedType>(result.getType()).getShape())
          step.inPlace.push_back({pos, *src});
      }
    }
    if (auto ws = dyn_cast<WorkspaceOpInterface>(op))
      step.workspace = std::max<int64_t>(ws.getWorkspaceBytes(), 0);
  }

  BufferLayout layout = layoutBuffers(graph);
  for (unsigned v = 0; v < values.size(); ++v) {
    values[v].kind = layout.values[v].kind;
    values[v].lastUse = layout.values[v].lastUse;
    values[v].buffer = layout.values[v].buffer;
  }
  for (const BufferLayout::Buffer &lb : layout.buffers) {
    Buffer b;
    b.interval = lb.interval;
    b.root = lb.root;
    b.values = lb.values;
    if (lb.workspaceOf >= 0) {
      b.workspaceOf = steps[lb.workspaceOf];
      workspaces[b.workspaceOf] = buffers.size();
    }
    buffers.push_back(std::move(b));
  }
  for (const ValueInfo &info : values)
    if (info.kind == Kind::Input)
      inputBytes += info.bytes;
  liveBytes = std::move(layout.liveBytes);
  load = layout.load;
  peakStep = layout.peakStep;
}

SmallVector<LiveInterval> EdgeUseRef::getIntervals() const {
  SmallVector<LiveInterval> out;
  for (const Buffer &b : buffers)
    out.push_back(b.interval);
  return out;
}

std::optional<unsigned> EdgeUseRef::lookup(Value value) const {
  auto it = valueIndex.find(value);
  if (it == valueIndex.end())
    return std::nullopt;
  return it->second;
}

std::optional<unsigned> EdgeUseRef::lookupWorkspace(Operation *op) const {
  auto it = workspaces.find(op);
  if (it == workspaces.end())
    return std::nullopt;
  return it->second;
}

SmallVector<unsigned> EdgeUseRef::getBuffersLiveAt(int64_t step) const {
  SmallVector<unsigned> live;
  for (unsigned b = 0; b < buffers.size(); ++b)
    if (buffers[b].interval.start <= step && step <= buffers[b].interval.end)
      live.push_back(b);
  llvm::stable_sort(live, [&](unsigned a, unsigned b) {
    return buffers[a].interval.bytes > buffers[b].interval.bytes;
  });
  return live;
}

std::string EdgeUseRef::describe(Operation *op) const {
  std::string out = op->getName().getStringRef().str();
  Location loc = op->getLoc();
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && !fused.getLocations().empty())
    loc = fused.getLocations().front();
  if (auto name = dyn_cast<NameLoc>(loc))
    out += " '" + name.getName().str() + "'";
  return out;
}

std::string EdgeUseRef::describe(unsigned v) const {
  const ValueInfo &info = values[v];
  if (auto arg = dyn_cast<BlockArgument>(info.value)) {
    std::string out = "argument " + std::to_string(arg.getArgNumber());
    if (auto func =
            dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp()))
      if (auto name =
              func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mlg.name"))
        out += " '" + name.str() + "'";
    return out;
  }
  std::string out = describe(info.producer);
  if (info.producer->getNumResults() > 1)
    out += " #" + std::to_string(cast<OpResult>(info.value).getResultNumber());
  return out;
}
