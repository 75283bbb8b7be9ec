//===- MLGDialect.cpp - the mlg dialect -----------------------------------===//
//
// Registers the ops and attributes and materializes folded constants as
// `mlg.constant`.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGDialect.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlg;

#include "mlg/Dialect/MLG/MLGDialect.cpp.inc"
#include "mlg/Dialect/MLG/MLGEnums.cpp.inc"
#include "mlg/Dialect/MLG/MLGInterfaces.cpp.inc"
#define GET_ATTRDEF_CLASSES
#include "mlg/Dialect/MLG/MLGAttributes.cpp.inc"

void MLGDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "mlg/Dialect/MLG/MLGOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "mlg/Dialect/MLG/MLGAttributes.cpp.inc"
      >();
}

Operation *MLGDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
