//===- GradientUtils.cpp - building blocks of op gradients ----------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"

#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;

bool mlg::isDifferentiableType(Type type) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  return tensor && isa<FloatType>(tensor.getElementType());
}

Type mlg::elementTypeOf(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}

ArrayRef<int64_t> mlg::shapeOf(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

Value mlg::sumToShape(OpBuilder &b, Location loc, Value grad,
                      ShapedType target) {
  ArrayRef<int64_t> from = shapeOf(grad);
  ArrayRef<int64_t> to = target.getShape();
  if (from == to)
    return grad;
  // Broadcasting aligns shapes at the right: leading dimensions are new,
  // and a dimension of 1 may have been stretched.
  size_t lead = from.size() - to.size();
  SmallVector<int64_t> axes;
  for (size_t i = 0; i < from.size(); ++i)
    if (i < lead || (to[i - lead] == 1 && from[i] != 1))
      axes.push_back(int64_t(i));
  Value sum = grad;
  if (!axes.empty())
    sum = ReduceSumOp::create(b, loc, grad, b.getDenseI64ArrayAttr(axes),
                              b.getBoolAttr(true));
  return reshapeTo(b, loc, sum, to);
}

Value mlg::scalarConstant(OpBuilder &b, Location loc, Type elementType,
                          double value) {
  auto type = RankedTensorType::get({}, elementType);
  Attribute element;
  if (auto f = dyn_cast<FloatType>(elementType))
    element = b.getFloatAttr(f, value);
  else
    element = b.getIntegerAttr(elementType, int64_t(value));
  return ConstantOp::create(b, loc, DenseElementsAttr::get(type, element));
}

Value mlg::reshapeTo(OpBuilder &b, Location loc, Value value,
                     ArrayRef<int64_t> shape) {
  if (shapeOf(value) == shape)
    return value;
  // Folded when `value` is a constant: the lowering has no reshape of one.
  return b.createOrFold<ReshapeOp>(
      loc, RankedTensorType::get(shape, elementTypeOf(value)), value);
}

Value mlg::expandTo(OpBuilder &b, Location loc, Value value,
                    ArrayRef<int64_t> shape) {
  if (shapeOf(value) == shape)
    return value;
  return b.createOrFold<ExpandOp>(
      loc, RankedTensorType::get(shape, elementTypeOf(value)), value);
}
