//===- MLGRTOps.cpp - the runtime dialect ---------------------------------===//
//
// Verifiers check what the serializer and the runtime rely on: buffers inside
// the arena or the host pool, constants of their buffer's type, streams and
// events in range, every awaited event recorded earlier, host buffers moved
// only by offload and prefetch steps.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLGRT/MLGRTOps.h"

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlg::rt;

/// `(type, type, ...)`, possibly empty: a step's operand or result types.
static ParseResult parseParenTypeList(OpAsmParser &parser,
                                      SmallVectorImpl<Type> &types) {
  if (parser.parseLParen())
    return failure();
  if (succeeded(parser.parseOptionalRParen()))
    return success();
  if (parser.parseTypeList(types))
    return failure();
  return parser.parseRParen();
}

static void printParenTypeList(OpAsmPrinter &printer, Operation *,
                               TypeRange types) {
  printer << "(" << types << ")";
}

#include "mlg/Dialect/MLGRT/MLGRTDialect.cpp.inc"
#include "mlg/Dialect/MLGRT/MLGRTEnums.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "mlg/Dialect/MLGRT/MLGRTAttributes.cpp.inc"
#define GET_OP_CLASSES
#include "mlg/Dialect/MLGRT/MLGRTOps.cpp.inc"

void MLGRTDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mlg/Dialect/MLGRT/MLGRTOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mlg/Dialect/MLGRT/MLGRTAttributes.cpp.inc"
      >();
}

static std::optional<int64_t> bytesOf(Type type) {
  return mlg::checkedByteSize(cast<ShapedType>(type));
}

LogicalResult ProgramOp::verify() {
  if (static_cast<int64_t>(getArenaSize()) < 0)
    return emitOpError("arena_size must be non-negative");
  if (static_cast<int64_t>(getNumStreams()) < 1 ||
      static_cast<int64_t>(getNumEvents()) < 0)
    return emitOpError(
        "needs at least one stream and a non-negative event count");
  if (getHostSize() && static_cast<int64_t>(*getHostSize()) < 0)
    return emitOpError("host_size must be non-negative");
  if (getMemoryBudget() && static_cast<int64_t>(*getMemoryBudget()) < 0)
    return emitOpError("memory_budget must be non-negative");
  return success();
}

LogicalResult ProgramOp::verifyRegions() {
  // The body's order must be a valid serial order: a step may wait only for
  // an event an earlier step records.
  llvm::SmallDenseSet<int64_t> recorded;
  for (auto step : getBody().front().getOps<StepOp>()) {
    for (int64_t e : step.getWait())
      if (!recorded.contains(e))
        return step.emitOpError("waits for event ")
               << e << ", which no earlier step records";
    // record is an I64Attr read as unsigned: -1 (none) must not count.
    if (auto record = static_cast<int64_t>(step.getRecord()); record >= 0)
      recorded.insert(record);
  }
  for (auto output : getBody().front().getOps<OutputOp>())
    if (output.getBuffer().getDefiningOp<HostBufferOp>())
      return output.emitOpError(
          "binds a host buffer; outputs are read from the arena or "
          "persistent tensors");
  for (auto input : getBody().front().getOps<InputOp>())
    if (!input.getBuffer().getDefiningOp<BufferOp>())
      return input.emitOpError("must bind an arena buffer");
  return success();
}

/// A buffer of `type` at `offset` lies inside its pool: the program's
/// arena or host pool (`poolSize` gives its bytes), named `what` and `pool`
/// in messages.
static LogicalResult
verifyInPool(Operation *op, int64_t offset, Type type, StringRef what,
             StringRef pool,
             llvm::function_ref<int64_t(ProgramOp)> poolSize) {
  std::optional<int64_t> bytes = bytesOf(type);
  if (offset < 0 || !bytes)
    return op->emitOpError("needs a non-negative offset and a sized buffer");
  if (auto program = op->getParentOfType<ProgramOp>()) {
    int64_t size = poolSize(program);
    if (offset > size || *bytes > size - offset)
      return op->emitOpError(what)
             << " [" << offset << ", " << offset + *bytes
             << ") lies outside the " << pool << " of " << size << " bytes";
  }
  return success();
}

LogicalResult HostBufferOp::verify() {
  return verifyInPool(*this, getOffset(), getType(), "host buffer",
                      "host pool", [](ProgramOp program) {
                        return static_cast<int64_t>(
                            program.getHostSize().value_or(0));
                      });
}

LogicalResult BufferOp::verify() {
  return verifyInPool(*this, getOffset(), getType(), "buffer", "arena",
                      [](ProgramOp program) {
                        return static_cast<int64_t>(program.getArenaSize());
                      });
}

LogicalResult ConstantOp::verify() {
  auto valueType = cast<ShapedType>(getValue().getType());
  auto type = getType();
  if (valueType.getShape() != type.getShape() ||
      valueType.getElementType() != type.getElementType())
    return emitOpError("value of type ")
           << valueType << " does not fit the buffer " << type;
  return success();
}

LogicalResult StepOp::verify() {
  if (getKernel().empty())
    return emitOpError("needs a kernel name");
  auto program = (*this)->getParentOfType<ProgramOp>();
  if (auto ws = getWorkspace()) {
    if (ws->size() != 2 || (*ws)[0] < 0 || (*ws)[1] < 0)
      return emitOpError(
          "workspace must be [offset, bytes], both non-negative");
    if (program &&
        (*ws)[0] + (*ws)[1] > static_cast<int64_t>(program.getArenaSize()))
      return emitOpError("workspace lies outside the arena");
  }
  auto isHost = [](Value v) { return v.getDefiningOp<HostBufferOp>(); };
  auto isArena = [](Value v) { return v.getDefiningOp<BufferOp>(); };
  bool offload = getKernel() == "offload", prefetch = getKernel() == "prefetch";
  if (offload || prefetch) {
    if (getInputs().size() != 1 || getOutputs().size() != 1)
      return emitOpError("copies one buffer to one buffer");
    Value from = getInputs()[0], to = getOutputs()[0];
    if (from.getType() != to.getType())
      return emitOpError("copies between buffers of different types");
    if (offload && !(isArena(from) && isHost(to)))
      return emitOpError("an offload copies an arena buffer to a host buffer");
    if (prefetch && !(isHost(from) && isArena(to)))
      return emitOpError("a prefetch copies a host buffer to an arena buffer");
  } else if (llvm::any_of(getOperands(), isHost)) {
    return emitOpError("reads or writes a host buffer; only offload and "
                       "prefetch steps do");
  }
  int64_t stream = getStream(), record = getRecord();
  if (stream < 0 || record < -1)
    return emitOpError("needs a non-negative stream and record >= -1");
  if (program) {
    int64_t streams = program.getNumStreams(), events = program.getNumEvents();
    if (stream >= streams)
      return emitOpError("stream ") << stream << " is not below " << streams;
    if (record >= events || llvm::any_of(getWait(), [&](int64_t e) {
          return e < 0 || e >= events;
        }))
      return emitOpError("event out of range (the program has ")
             << events << ")";
  }
  return success();
}
