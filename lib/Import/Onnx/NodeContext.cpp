//===- NodeContext.cpp - what an op importer sees of its node -------------===//
//
// Op creation builds the op with placeholder result types, asks its
// InferTypeOpInterface for the real ones, verifies it and folds it. A model
// whose shapes disagree is rejected with the op's own diagnostic; nothing
// asserts on untrusted input.
//
//===----------------------------------------------------------------------===//

#include "NodeContext.h"

#include "GraphImporter.h"
#include "Tensors.h"

#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

NodeContext::NodeContext(GraphImporter &importer, const onnx::NodeProto &node,
                         int64_t opset, Location loc)
    : node(node), opset(opset), loc(loc), importer(importer) {}

OpBuilder &NodeContext::builder() { return importer.getBuilder(); }

InFlightDiagnostic NodeContext::emitError() {
  return mlir::emitError(loc) << node.op_type() << ": ";
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

LogicalResult NodeContext::checkArity(unsigned min, unsigned max) {
  unsigned n = node.input_size();
  if (n > max)
    return emitError() << "takes at most " << max << " inputs, got " << n;
  for (unsigned i = 0; i < min; ++i)
    if (!hasInput(i))
      return emitError() << "input #" << i << " is required";
  return success();
}

bool NodeContext::hasInput(unsigned i) const {
  return i < static_cast<unsigned>(node.input_size()) && !node.input(i).empty();
}

Value NodeContext::input(unsigned i) {
  assert(hasInput(i) && "checkArity guarantees required inputs");
  return importer.lookup(node.input(i));
}

RankedTensorType NodeContext::inputType(unsigned i) {
  Value v = input(i);
  return v ? cast<RankedTensorType>(v.getType()) : nullptr;
}

bool NodeContext::hasOutput(unsigned i) const {
  return i < static_cast<unsigned>(node.output_size()) &&
         !node.output(i).empty();
}

LogicalResult NodeContext::setOutputs(ValueRange values) {
  for (int i = 0, e = node.output_size(); i < e; ++i) {
    if (node.output(i).empty())
      continue;
    if (i >= static_cast<int>(values.size()))
      return emitError() << "output #" << i << " ('" << node.output(i)
                         << "') is not supported by mlg";
    importer.define(node.output(i), values[i]);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Compile-time inputs
//===----------------------------------------------------------------------===//

FailureOr<DenseElementsAttr> NodeContext::constantInput(unsigned i,
                                                        StringRef what) {
  std::string desc = (node.op_type() + ": the " + what).str();
  return importer.constantValueOf(node.input(i), loc, desc);
}

FailureOr<SmallVector<int64_t>> NodeContext::constantInts(unsigned i,
                                                          StringRef what) {
  FailureOr<DenseElementsAttr> value = constantInput(i, what);
  if (failed(value))
    return failure();
  auto intType = dyn_cast<IntegerType>(value->getElementType());
  if (!intType || intType.getWidth() < 8)
    return emitError() << "the " << what << " must be an integer tensor, got "
                       << value->getType();
  SmallVector<int64_t> out;
  for (const APInt &v : value->getValues<APInt>())
    out.push_back(intType.isUnsigned() ? static_cast<int64_t>(v.getZExtValue())
                                       : v.getSExtValue());
  return out;
}

FailureOr<double> NodeContext::constantScalar(unsigned i, StringRef what) {
  FailureOr<DenseElementsAttr> value = constantInput(i, what);
  if (failed(value))
    return failure();
  if (value->getNumElements() != 1)
    return emitError() << "the " << what << " must hold one value, got "
                       << value->getType();
  Type element = value->getElementType();
  if (isa<FloatType>(element))
    return (*value->getValues<APFloat>().begin()).convertToDouble();
  APInt v = *value->getValues<APInt>().begin();
  if (cast<IntegerType>(element).isUnsigned() || element.isInteger(1))
    return static_cast<double>(v.getZExtValue());
  return static_cast<double>(v.getSExtValue());
}

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

const onnx::AttributeProto *NodeContext::findAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

static const char *attributeTypeName(int type) {
  switch (type) {
  case onnx::AttributeProto::FLOAT:
    return "FLOAT";
  case onnx::AttributeProto::INT:
    return "INT";
  case onnx::AttributeProto::STRING:
    return "STRING";
  case onnx::AttributeProto::TENSOR:
    return "TENSOR";
  case onnx::AttributeProto::GRAPH:
    return "GRAPH";
  case onnx::AttributeProto::FLOATS:
    return "FLOATS";
  case onnx::AttributeProto::INTS:
    return "INTS";
  case onnx::AttributeProto::STRINGS:
    return "STRINGS";
  case onnx::AttributeProto::TENSORS:
    return "TENSORS";
  case onnx::AttributeProto::GRAPHS:
    return "GRAPHS";
  case onnx::AttributeProto::SPARSE_TENSOR:
    return "SPARSE_TENSOR";
  default:
    return "UNDEFINED";
  }
}

/// The attribute's declared type; files written by old tools may leave it
/// unset, so it is then inferred from the field that holds a value.
static int attributeType(const onnx::AttributeProto &attr) {
  if (attr.type() != onnx::AttributeProto::UNDEFINED)
    return attr.type();
  if (attr.has_f())
    return onnx::AttributeProto::FLOAT;
  if (attr.has_i())
    return onnx::AttributeProto::INT;
  if (attr.has_s())
    return onnx::AttributeProto::STRING;
  if (attr.has_t())
    return onnx::AttributeProto::TENSOR;
  if (attr.ints_size())
    return onnx::AttributeProto::INTS;
  if (attr.floats_size())
    return onnx::AttributeProto::FLOATS;
  if (attr.strings_size())
    return onnx::AttributeProto::STRINGS;
  return onnx::AttributeProto::UNDEFINED;
}

FailureOr<const onnx::AttributeProto *>
NodeContext::typedAttr(StringRef name,
                       onnx::AttributeProto::AttributeType type) {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return static_cast<const onnx::AttributeProto *>(nullptr);
  int actual = attributeType(*attr);
  if (actual != type)
    return emitError() << "attribute '" << name << "' must be "
                       << attributeTypeName(type) << ", got "
                       << attributeTypeName(actual);
  return attr;
}

template <typename T>
static FailureOr<T> missing(NodeContext &ctx, StringRef name) {
  return ctx.emitError() << "attribute '" << name << "' is required";
}

FailureOr<int64_t> NodeContext::getInt(StringRef name,
                                       std::optional<int64_t> dflt) {
  auto attr = typedAttr(name, onnx::AttributeProto::INT);
  if (failed(attr))
    return failure();
  if (*attr)
    return (*attr)->i();
  if (dflt)
    return *dflt;
  return missing<int64_t>(*this, name);
}

FailureOr<double> NodeContext::getFloat(StringRef name,
                                        std::optional<double> dflt) {
  auto attr = typedAttr(name, onnx::AttributeProto::FLOAT);
  if (failed(attr))
    return failure();
  if (*attr)
    return static_cast<double>((*attr)->f());
  if (dflt)
    return *dflt;
  return missing<double>(*this, name);
}

FailureOr<std::string> NodeContext::getString(StringRef name,
                                              std::optional<std::string> dflt) {
  auto attr = typedAttr(name, onnx::AttributeProto::STRING);
  if (failed(attr))
    return failure();
  if (*attr)
    return (*attr)->s();
  if (dflt)
    return *dflt;
  return missing<std::string>(*this, name);
}

FailureOr<SmallVector<int64_t>>
NodeContext::getInts(StringRef name, std::optional<SmallVector<int64_t>> dflt) {
  auto attr = typedAttr(name, onnx::AttributeProto::INTS);
  if (failed(attr))
    return failure();
  if (*attr)
    return SmallVector<int64_t>((*attr)->ints().begin(), (*attr)->ints().end());
  if (dflt)
    return *dflt;
  return missing<SmallVector<int64_t>>(*this, name);
}

FailureOr<SmallVector<double>> NodeContext::getFloats(StringRef name) {
  auto attr = typedAttr(name, onnx::AttributeProto::FLOATS);
  if (failed(attr))
    return failure();
  if (!*attr)
    return missing<SmallVector<double>>(*this, name);
  return SmallVector<double>((*attr)->floats().begin(),
                             (*attr)->floats().end());
}

FailureOr<SmallVector<std::string>> NodeContext::getStrings(StringRef name) {
  auto attr = typedAttr(name, onnx::AttributeProto::STRINGS);
  if (failed(attr))
    return failure();
  if (!*attr)
    return SmallVector<std::string>();
  return SmallVector<std::string>((*attr)->strings().begin(),
                                  (*attr)->strings().end());
}

FailureOr<DenseElementsAttr> NodeContext::getTensor(StringRef name) {
  auto attr = typedAttr(name, onnx::AttributeProto::TENSOR);
  if (failed(attr))
    return failure();
  if (!*attr)
    return missing<DenseElementsAttr>(*this, name);
  const onnx::TensorProto &tensor = (*attr)->t();
  std::string what = (node.op_type() + ": attribute '" + name + "'").str();
  FailureOr<RankedTensorType> type =
      tensorTypeOf(tensor, getContext(), loc, what);
  if (failed(type))
    return failure();
  FailureOr<TensorBytes> bytes = importer.getFile().getBytes(tensor, loc, what,
                                                             /*inModel=*/false);
  if (failed(bytes))
    return failure();
  return denseFromBytes(*type, bytes->data);
}

FailureOr<int64_t> NodeContext::normalizeAxis(int64_t axis, int64_t rank,
                                              StringRef what) {
  if (axis < -rank || axis >= rank)
    return emitError() << what << " " << axis << " is out of range for rank "
                       << rank;
  return axis < 0 ? axis + rank : axis;
}

//===----------------------------------------------------------------------===//
// Building
//===----------------------------------------------------------------------===//

void NodeContext::markState(unsigned i, StringRef init) {
  if (hasInput(i))
    importer.markState(input(i), init);
}

Value NodeContext::constant(DenseElementsAttr value) {
  return importer.getConstant(value);
}

FailureOr<SmallVector<Value>>
NodeContext::createImpl(StringRef opName, ValueRange operands,
                        ArrayRef<NamedAttribute> attrs, TypeRange types,
                        unsigned numResults) {
  MLIRContext *ctx = getContext();
  OperationState state(loc, opName);
  state.addOperands(operands);
  state.addAttributes(attrs);
  bool infer = types.empty();
  if (infer)
    state.addTypes(SmallVector<Type>(numResults, NoneType::get(ctx)));
  else
    state.addTypes(types);
  Operation *op = builder().create(state);
  auto fail = [&]() {
    op->erase();
    return failure();
  };
  if (infer) {
    auto iface = dyn_cast<InferTypeOpInterface>(op);
    assert(iface && "ops created without result types must infer them");
    SmallVector<Type> inferred;
    if (failed(iface.inferReturnTypes(
            ctx, loc, op->getOperands(), op->getRawDictionaryAttrs(),
            op->getPropertiesStorage(), op->getRegions(), inferred)))
      return fail();
    if (inferred.size() != op->getNumResults()) {
      mlir::emitError(loc) << "internal error: " << opName << " inferred "
                           << inferred.size() << " results, expected "
                           << op->getNumResults();
      return fail();
    }
    for (auto [result, type] : llvm::zip(op->getResults(), inferred))
      result.setType(type);
  }
  for (Type type : op->getResultTypes()) {
    auto shaped = dyn_cast<RankedTensorType>(type);
    if (shaped && !checkedByteSize(shaped)) {
      emitError() << "its result " << type
                  << " would need more than 2^63 bytes";
      return fail();
    }
  }
  if (failed(verify(op, /*verifyRecursively=*/false)))
    return fail();

  SmallVector<OpFoldResult> folded;
  if (succeeded(op->fold(folded)) && !folded.empty()) {
    SmallVector<Value> replacements;
    for (auto [result, fold] : llvm::zip(op->getResults(), folded)) {
      if (auto v = dyn_cast<Value>(fold)) {
        replacements.push_back(v);
        continue;
      }
      auto dense = dyn_cast<DenseElementsAttr>(cast<Attribute>(fold));
      if (!dense || dense.getType() != result.getType())
        break;
      replacements.push_back(constant(dense));
    }
    if (replacements.size() == op->getNumResults()) {
      op->erase();
      return replacements;
    }
  }
  return SmallVector<Value>(op->getResults());
}
