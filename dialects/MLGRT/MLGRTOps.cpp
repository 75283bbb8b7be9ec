//===- MLGRTOps.cpp - the runtime dialect ---------------------------------===//
//
// Verifiers check what the serializer and the runtime rely on: buffers inside
// the arena, constants of their buffer's type, streams and events in range.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLGRT/MLGRTOps.h"

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
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
  return success();
}

LogicalResult BufferOp::verify() {
  int64_t offset = getOffset();
  std::optional<int64_t> bytes = bytesOf(getType());
  if (offset < 0 || !bytes)
    return emitOpError("needs a non-negative offset and a sized buffer");
  if (auto program = (*this)->getParentOfType<ProgramOp>()) {
    int64_t arena = program.getArenaSize();
    if (offset > arena || *bytes > arena - offset)
      return emitOpError("buffer [")
             << offset << ", " << offset + *bytes
             << ") lies outside the arena of " << arena << " bytes";
  }
  return success();
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
