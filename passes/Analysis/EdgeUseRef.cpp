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
  int64_t numSteps = steps.size();
  int64_t lastStep = std::max<int64_t>(numSteps - 1, 0);

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
    values.push_back(info);
  };
  for (BlockArgument arg : block.getArguments())
    addValue(arg, Kind::Input, nullptr, 0);
  llvm::StringSet<> globalsSeen;
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
    }
  }

  // Last uses; returned values live to the end.
  for (ValueInfo &info : values) {
    info.lastUse = info.def;
    for (Operation *user : info.value.getUsers()) {
      Operation *owner = block.findAncestorOpInBlock(*user);
      info.lastUse =
          std::max(info.lastUse, owner ? stepOf.lookup(owner) : lastStep);
    }
  }
  // A view keeps what it aliases alive (chains resolve backwards).
  for (ValueInfo &info : llvm::reverse(values)) {
    if (info.kind != Kind::View)
      continue;
    if (auto src = lookup(info.producer->getOperand(0)))
      values[*src].lastUse = std::max(values[*src].lastUse, info.lastUse);
  }

  // Buffers, in schedule order.
  auto newBuffer = [&](unsigned v) {
    Buffer b;
    b.root = v;
    b.interval = {values[v].def, values[v].lastUse, values[v].bytes};
    b.values.push_back(v);
    values[v].buffer = buffers.size();
    buffers.push_back(b);
  };
  auto join = [&](unsigned v, int buffer) {
    values[v].buffer = buffer;
    Buffer &b = buffers[buffer];
    b.values.push_back(v);
    b.interval.end = std::max(b.interval.end, values[v].lastUse);
  };
  for (unsigned v = 0; v < values.size(); ++v) {
    if (values[v].kind == Kind::Input)
      newBuffer(v);
  }
  for (Operation *op : steps) {
    int64_t step = stepOf[op];
    for (Value result : op->getResults()) {
      auto idx = lookup(result);
      if (!idx)
        continue;
      ValueInfo &info = values[*idx];
      if (info.kind == Kind::View) {
        auto src = lookup(op->getOperand(0));
        if (src && values[*src].buffer >= 0) {
          join(*idx, values[*src].buffer);
          continue;
        }
        info.kind = Kind::Result;
      }
      if (info.kind != Kind::Result)
        continue;
      // The operands this result may be written over: any for an in-place
      // elementwise op's first result, the one an op names otherwise.
      unsigned resultNumber = cast<OpResult>(result).getResultNumber();
      SmallVector<Value, 4> candidates;
      if (op->hasTrait<InPlaceElementwise>() && resultNumber == 0)
        candidates.append(op->operand_begin(), op->operand_end());
      else if (auto inPlace = dyn_cast<InPlaceResultsOpInterface>(op))
        if (std::optional<unsigned> n = inPlace.getInPlaceOperand(resultNumber))
          candidates.push_back(op->getOperand(*n));
      if (!candidates.empty()) {
        int chosen = -1;
        for (Value operand : candidates) {
          auto src = lookup(operand);
          if (!src || values[*src].buffer < 0)
            continue;
          const Buffer &b = buffers[values[*src].buffer];
          bool isArgument = b.root >= 0 && values[b.root].kind == Kind::Input;
          // Same shape, not only the same bytes: a broadcast operand or a
          // per-channel parameter of equal size is not overwritten.
          bool sameShape = cast<ShapedType>(operand.getType()).getShape() ==
                           cast<ShapedType>(result.getType()).getShape();
          if (!isArgument && sameShape && b.interval.end == step &&
              b.interval.bytes == info.bytes) {
            chosen = values[*src].buffer;
            break;
          }
        }
        if (chosen >= 0) {
          info.kind = Kind::InPlace;
          join(*idx, chosen);
          continue;
        }
      }
      newBuffer(*idx);
    }
    if (auto ws = dyn_cast<WorkspaceOpInterface>(op)) {
      int64_t bytes = ws.getWorkspaceBytes();
      if (bytes > 0) {
        Buffer b;
        b.interval = {step, step, bytes};
        b.workspaceOf = op;
        workspaces[op] = buffers.size();
        buffers.push_back(b);
      }
    }
  }
  for (const ValueInfo &info : values)
    if (info.kind == Kind::Input)
      inputBytes += info.bytes;

  liveBytes = liveBytesPerStep(getIntervals(), numSteps);
  for (int64_t s = 0; s < numSteps; ++s) {
    if (liveBytes[s] > load) {
      load = liveBytes[s];
      peakStep = s;
    }
  }
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
