//===- NNOps.cpp - shape inference of the neural-network ops --------------===//
//
// Convolution and pooling windows, normalization, dropout, Gemm/MatMul,
// softmax and the LSTM. Each check names the dimension that disagrees, since
// these messages are what a user sees for an inconsistent model.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "FoldUtils.h"

using namespace mlir;
using namespace mlg;

/// Checks the spatial attributes of a window op on an input of `rank` and
/// computes the output's spatial sizes.
static LogicalResult
inferWindow(std::optional<Location> loc, RankedTensorType input,
            ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
            ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations, bool ceilMode,
            SmallVectorImpl<int64_t> &out) {
  int64_t spatial = input.getRank() - 2;
  if (static_cast<int64_t>(kernel.size()) != spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return emitOptionalError(
        loc, "an input of rank ", input.getRank(), " needs ", spatial,
        " kernel sizes, strides and dilations and ", 2 * spatial, " pads");
  for (int64_t i = 0; i < spatial; ++i) {
    if (pads[i] < 0 || pads[i + spatial] < 0)
      return emitOptionalError(loc, "pads must be non-negative");
    std::optional<int64_t> size =
        windowOutputSize(input.getDimSize(i + 2), kernel[i], strides[i],
                         dilations[i], pads[i], pads[i + spatial], ceilMode);
    if (!size)
      return emitOptionalError(
          loc, "spatial dimension ", i, " of size ", input.getDimSize(i + 2),
          " (padded by ", pads[i], " and ", pads[i + spatial],
          ") cannot hold a window of size ", kernel[i], " with dilation ",
          dilations[i], " and stride ", strides[i]);
    out.push_back(*size);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ConvOp
//===----------------------------------------------------------------------===//

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  auto weight = getStaticTensorType(adaptor.getWeight().getType());
  if (!input || !weight)
    return emitOptionalError(loc, "operands must be static-shaped tensors");
  if (input.getRank() < 3)
    return emitOptionalError(loc, "input must be [N, C, spatial...], got ",
                             input);
  if (weight.getRank() != input.getRank())
    return emitOptionalError(loc, "weight ", weight,
                             " must have the input's rank ", input.getRank());
  if (input.getElementType() != weight.getElementType())
    return emitOptionalError(loc, "input and weight element types differ");
  int64_t group = adaptor.getGroup();
  int64_t channels = input.getDimSize(1), filters = weight.getDimSize(0);
  if (group <= 0 || channels % group != 0 || filters % group != 0)
    return emitOptionalError(loc, "group ", group, " must divide the ",
                             channels, " input channels and the ", filters,
                             " filters");
  if (weight.getDimSize(1) * group != channels)
    return emitOptionalError(
        loc, "weight ", weight, " expects ", weight.getDimSize(1) * group,
        " input channels but the input ", input, " has ", channels);
  if (Value bias = adaptor.getBias()) {
    auto b = getStaticTensorType(bias.getType());
    if (!b || b.getRank() != 1 || b.getDimSize(0) != filters ||
        b.getElementType() != input.getElementType())
      return emitOptionalError(loc, "bias ", bias.getType(), " must be [",
                               filters, "] of the input's element type");
  }
  SmallVector<int64_t> shape = {input.getDimSize(0), filters};
  if (failed(inferWindow(loc, input, weight.getShape().drop_front(2),
                         adaptor.getStrides(), adaptor.getPads(),
                         adaptor.getDilations(), /*ceilMode=*/false, shape)))
    return failure();
  types.push_back(input.clone(shape));
  return success();
}

/// The im2col buffer of one image and one group: (C / group) * prod(kernel)
/// rows by prod(output spatial) columns. Backends that need less use less.
int64_t ConvOp::getWorkspaceBytes() {
  auto weight = getWeight().getType();
  auto out = getType();
  int64_t rows = weight.getDimSize(1), cols = 1;
  for (int64_t d = 2; d < weight.getRank(); ++d)
    rows *= weight.getDimSize(d);
  for (int64_t d = 2; d < out.getRank(); ++d)
    cols *= out.getDimSize(d);
  return rows * cols * *elementByteSize(out.getElementType());
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> loc, Adaptor adaptor,
                               RankedTensorType &input,
                               SmallVectorImpl<int64_t> &shape) {
  input = getStaticTensorType(adaptor.getInput().getType());
  if (!input || input.getRank() < 3)
    return emitOptionalError(
        loc, "input must be a static [N, C, spatial...] tensor");
  shape.assign({input.getDimSize(0), input.getDimSize(1)});
  return inferWindow(loc, input, adaptor.getKernelShape(), adaptor.getStrides(),
                     adaptor.getPads(), adaptor.getDilations(),
                     adaptor.getCeilMode(), shape);
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  RankedTensorType input;
  SmallVector<int64_t> shape;
  if (failed(inferPool(loc, adaptor, input, shape)))
    return failure();
  types.push_back(input.clone(shape));
  return success();
}

LogicalResult MaxPoolWithIndicesOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  RankedTensorType input;
  SmallVector<int64_t> shape;
  if (failed(inferPool(loc, adaptor, input, shape)))
    return failure();
  if (adaptor.getStorageOrder() != 0 && adaptor.getStorageOrder() != 1)
    return emitOptionalError(loc, "storage_order must be 0 or 1");
  types.push_back(input.clone(shape));
  types.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult AveragePoolOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  RankedTensorType input;
  SmallVector<int64_t> shape;
  if (failed(inferPool(loc, adaptor, input, shape)))
    return failure();
  types.push_back(input.clone(shape));
  return success();
}

static LogicalResult inferGlobalPool(std::optional<Location> loc, Value operand,
                                     SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(operand.getType());
  if (!input || input.getRank() < 3)
    return emitOptionalError(
        loc, "input must be a static [N, C, spatial...] tensor");
  SmallVector<int64_t> shape(input.getRank(), 1);
  shape[0] = input.getDimSize(0);
  shape[1] = input.getDimSize(1);
  types.push_back(input.clone(shape));
  return success();
}

LogicalResult GlobalAveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferGlobalPool(loc, adaptor.getInput(), types);
}

LogicalResult GlobalMaxPoolOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  return inferGlobalPool(loc, adaptor.getInput(), types);
}

//===----------------------------------------------------------------------===//
// Normalization and dropout
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input || input.getRank() < 2)
    return emitOptionalError(loc, "input must be a static [N, C, ...] tensor");
  int64_t channels = input.getDimSize(1);
  const char *names[] = {"scale", "bias", "mean", "var"};
  Value params[] = {adaptor.getScale(), adaptor.getBias(), adaptor.getMean(),
                    adaptor.getVar()};
  for (auto [name, value] : llvm::zip(names, params)) {
    auto type = getStaticTensorType(value.getType());
    if (!type || type.getRank() != 1 || type.getDimSize(0) != channels)
      return emitOptionalError(loc, name, " ", value.getType(), " must be [",
                               channels, "], one entry per channel of ", input);
  }
  if (adaptor.getMomentum().convertToDouble() < 0 ||
      adaptor.getMomentum().convertToDouble() > 1)
    return emitOptionalError(loc, "momentum must lie in [0, 1]");
  types.push_back(input);
  types.push_back(adaptor.getMean().getType());
  types.push_back(adaptor.getVar().getType());
  return success();
}

SmallVector<Value> BatchNormOp::getRecomputeOperands() {
  SmallVector<Value> operands(getOperands());
  // Training form reads the running statistics only for the results a
  // clone never gives out; scale and bias stand in where their types match
  // (the results' types follow them).
  if (getTraining() && getScale().getType() == getMean().getType() &&
      getBias().getType() == getVar().getType()) {
    operands[3] = getScale();
    operands[4] = getBias();
  }
  return operands;
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input || input.getRank() < 1)
    return emitOptionalError(loc, "input must be a static-shaped tensor");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             input.getRank());
  ArrayRef<int64_t> normalized = input.getShape().drop_front(axis);
  for (Value v : {adaptor.getScale(), adaptor.getBias()}) {
    if (!v)
      continue;
    auto type = getStaticTensorType(v.getType());
    auto shape =
        type ? broadcastShapes(normalized, type.getShape()) : std::nullopt;
    if (!shape || ArrayRef<int64_t>(*shape) != normalized)
      return emitOptionalError(loc,
                               "scale and bias must broadcast to the "
                               "normalized shape of ",
                               input, " from axis ", axis);
  }
  SmallVector<int64_t> statShape(input.getShape());
  for (int64_t d = axis; d < input.getRank(); ++d)
    statShape[d] = 1;
  types.push_back(input);
  types.push_back(input.clone(statShape));
  types.push_back(input.clone(statShape));
  return success();
}

LogicalResult DropoutOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "input must be a static-shaped tensor");
  double ratio = adaptor.getRatio().convertToDouble();
  if (!(ratio >= 0 && ratio < 1))
    return emitOptionalError(loc, "ratio ", ratio, " must lie in [0, 1)");
  types.push_back(input);
  types.push_back(input.clone(IntegerType::get(ctx, 1)));
  return success();
}

LogicalResult DropoutOp::fold(FoldAdaptor,
                              SmallVectorImpl<OpFoldResult> &results) {
  if (getTraining() && getRatio().convertToDouble() != 0)
    return failure();
  results.push_back(getInput());
  results.push_back(DenseElementsAttr::get(getMask().getType(), true));
  return success();
}

//===----------------------------------------------------------------------===//
// Matrix products and softmax
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto a = getStaticTensorType(adaptor.getA().getType());
  auto b = getStaticTensorType(adaptor.getB().getType());
  if (!a || !b || a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(loc, "A and B must be static 2-d tensors");
  if (a.getElementType() != b.getElementType())
    return emitOptionalError(loc, "A and B element types differ");
  int64_t m = a.getDimSize(adaptor.getTransA() ? 1 : 0);
  int64_t k = a.getDimSize(adaptor.getTransA() ? 0 : 1);
  int64_t kb = b.getDimSize(adaptor.getTransB() ? 1 : 0);
  int64_t n = b.getDimSize(adaptor.getTransB() ? 0 : 1);
  if (k != kb)
    return emitOptionalError(loc, "inner dimensions differ: op(A) is ", m, "x",
                             k, " and op(B) is ", kb, "x", n);
  if (Value c = adaptor.getC()) {
    auto ct = getStaticTensorType(c.getType());
    auto shape = ct ? broadcastShapes({m, n}, ct.getShape()) : std::nullopt;
    if (!shape || ArrayRef<int64_t>(*shape) != ArrayRef<int64_t>{m, n} ||
        ct.getElementType() != a.getElementType())
      return emitOptionalError(loc, "C ", c.getType(),
                               " must broadcast to the ", m, "x", n, " result");
  }
  types.push_back(a.clone({m, n}));
  return success();
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto a = getStaticTensorType(adaptor.getLhs().getType());
  auto b = getStaticTensorType(adaptor.getRhs().getType());
  if (!a || !b || a.getRank() < 1 || b.getRank() < 1)
    return emitOptionalError(loc,
                             "operands must be static tensors of rank >= 1");
  SmallVector<int64_t> sa(a.getShape()), sb(b.getShape());
  bool vecA = sa.size() == 1, vecB = sb.size() == 1;
  if (vecA)
    sa.insert(sa.begin(), 1);
  if (vecB)
    sb.push_back(1);
  int64_t m = sa[sa.size() - 2], k = sa.back(), kb = sb[sb.size() - 2],
          n = sb.back();
  if (k != kb)
    return emitOptionalError(loc, "inner dimensions differ: ", a, " times ", b);
  auto batch = broadcastShapes(ArrayRef<int64_t>(sa).drop_back(2),
                               ArrayRef<int64_t>(sb).drop_back(2));
  if (!batch)
    return emitOptionalError(loc, "batch dimensions of ", a, " and ", b,
                             " do not broadcast");
  SmallVector<int64_t> shape = *batch;
  if (!vecA)
    shape.push_back(m);
  if (!vecB)
    shape.push_back(n);
  types.push_back(a.clone(shape));
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t axis = getAxis();
  if (axis < 0 || axis >= getType().getRank())
    return emitOpError("axis ")
           << axis << " is out of range for rank " << getType().getRank();
  return success();
}

LogicalResult LogSoftmaxOp::verify() {
  int64_t axis = getAxis();
  if (axis < 0 || axis >= getType().getRank())
    return emitOpError("axis ")
           << axis << " is out of range for rank " << getType().getRank();
  return success();
}

//===----------------------------------------------------------------------===//
// LSTMOp
//===----------------------------------------------------------------------===//

/// The four gates of one time step for every direction: D * N * 4H.
int64_t LSTMOp::getWorkspaceBytes() {
  auto y = getY().getType();
  return y.getDimSize(1) * y.getDimSize(2) * 4 * y.getDimSize(3) *
         *elementByteSize(y.getElementType());
}

LogicalResult LSTMOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto x = getStaticTensorType(adaptor.getX().getType());
  if (!x || x.getRank() != 3)
    return emitOptionalError(
        loc, "X must be a static [sequence, batch, input] tensor");
  int64_t seq = x.getDimSize(0), batch = x.getDimSize(1), in = x.getDimSize(2);
  int64_t h = adaptor.getHiddenSize();
  int64_t dirs = adaptor.getDirection() == RnnDirection::bidirectional ? 2 : 1;
  if (h <= 0)
    return emitOptionalError(loc, "hidden_size must be positive");
  auto expect = [&](Value v, StringRef name,
                    ArrayRef<int64_t> shape) -> LogicalResult {
    if (!v)
      return success();
    auto type = getStaticTensorType(v.getType());
    if (!type || type.getShape() != shape ||
        type.getElementType() != x.getElementType())
      return emitOptionalError(loc, name, " is ", v.getType(),
                               ", expected shape [",
                               llvm::make_range(shape.begin(), shape.end()),
                               "] of ", x.getElementType());
    return success();
  };
  if (failed(expect(adaptor.getW(), "W", {dirs, 4 * h, in})) ||
      failed(expect(adaptor.getR(), "R", {dirs, 4 * h, h})) ||
      failed(expect(adaptor.getB(), "B", {dirs, 8 * h})) ||
      failed(expect(adaptor.getInitialH(), "initial_h", {dirs, batch, h})) ||
      failed(expect(adaptor.getInitialC(), "initial_c", {dirs, batch, h})) ||
      failed(expect(adaptor.getP(), "P", {dirs, 3 * h})))
    return failure();
  types.push_back(x.clone({seq, dirs, batch, h}));
  types.push_back(x.clone({dirs, batch, h}));
  types.push_back(x.clone({dirs, batch, h}));
  return success();
}
