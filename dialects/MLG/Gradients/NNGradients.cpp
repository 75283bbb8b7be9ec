//===- NNGradients.cpp - gradients of the NN ops -------------------------===//
//
// Gradients of convolution, pooling, normalization, softmax and dropout, and
// the shape rules of their backward ops (MLGNNGradOps.td). Each forward op
// maps onto one backward op reading what the forward op declares, plus
// compositions of forward ops where those suffice: a convolution's bias
// gradient is a sum of dY, a global average pool's an expansion, a global max
// pool's a max_pool_backward with one window per plane. Results that carry
// no gradient (dropout's mask, the statistics of batch and layer norm) must
// receive none: the builders refuse rather than drop one.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "../FoldUtils.h"

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// Shape rules shared by the backward ops
//===----------------------------------------------------------------------===//

/// The shape a window op with these attributes gives for an input of
/// `input`'s shape: [N, C or `channels`, windows...]. Fails with a
/// diagnostic at `loc` if the attributes do not fit the input.
static LogicalResult
windowResultShape(std::optional<Location> loc, ArrayRef<int64_t> input,
                  int64_t channels, ArrayRef<int64_t> kernel,
                  ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                  ArrayRef<int64_t> dilations, bool ceilMode,
                  SmallVectorImpl<int64_t> &shape) {
  int64_t rank = input.size(), spatial = rank - 2;
  if (rank < 3)
    return emitOptionalError(loc, "needs [N, C, spatial...] tensors, got rank ",
                             rank);
  if (static_cast<int64_t>(kernel.size()) != spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return emitOptionalError(loc, "tensors of rank ", rank, " need ", spatial,
                             " kernel sizes, strides and dilations and ",
                             2 * spatial, " pads");
  shape.assign({input[0], channels});
  for (int64_t i = 0; i < spatial; ++i) {
    std::optional<int64_t> size =
        windowOutputSize(input[i + 2], kernel[i], strides[i], dilations[i],
                         pads[i], pads[i + spatial], ceilMode);
    if (!size)
      return emitOptionalError(
          loc, "spatial dimension ", i, " of size ", input[i + 2],
          " (padded by ", pads[i], " and ", pads[i + spatial],
          ") cannot hold a window of size ", kernel[i], " with dilation ",
          dilations[i], " and stride ", strides[i]);
    shape.push_back(*size);
  }
  return success();
}

/// Checks that a convolution of an input of type `input` with a weight of
/// type `weight` gives an output of `output`'s type.
static LogicalResult verifyConvShapes(Location loc, ShapedType input,
                                      ShapedType weight, ShapedType output,
                                      ArrayRef<int64_t> strides,
                                      ArrayRef<int64_t> pads,
                                      ArrayRef<int64_t> dilations,
                                      int64_t group) {
  if (input.getElementType() != weight.getElementType() ||
      input.getElementType() != output.getElementType())
    return emitError(loc, "the gradients, input and weight must have one "
                          "element type");
  int64_t rank = input.getRank();
  if (rank < 3 || weight.getRank() != rank || output.getRank() != rank)
    return emitError(loc, "the input ")
           << input << ", weight " << weight << " and output gradient "
           << output << " must be [N, C, spatial...] tensors of one rank";
  int64_t channels = input.getDimSize(1), filters = weight.getDimSize(0);
  if (group <= 0 || channels % group != 0 || filters % group != 0 ||
      weight.getDimSize(1) * group != channels)
    return emitError(loc, "group ") << group << " must divide the " << channels
                                    << " input channels and the " << filters
                                    << " filters, and the weight must hold "
                                       "channels / group of them, got "
                                    << weight;
  SmallVector<int64_t> shape;
  if (failed(windowResultShape(loc, input.getShape(), filters,
                               weight.getShape().drop_front(2), strides, pads,
                               dilations, /*ceilMode=*/false, shape)))
    return failure();
  if (ArrayRef<int64_t>(shape) != output.getShape())
    return emitError(loc, "a convolution of ")
           << input << " with " << weight << " gives [" << shape
           << "], not the output gradient's " << output;
  return success();
}

/// The im2col matrix of one image and one group, as ConvOp's workspace.
static int64_t convColumnBytes(ShapedType weight, ShapedType output) {
  int64_t rows = weight.getDimSize(1), cols = 1;
  for (int64_t d = 2; d < weight.getRank(); ++d)
    rows *= weight.getDimSize(d);
  for (int64_t d = 2; d < output.getRank(); ++d)
    cols *= output.getDimSize(d);
  return rows * cols * *elementByteSize(output.getElementType());
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

void ConvOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getWeight()});
}

LogicalResult ConvOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  Value dx = ConvBackwardDataOp::create(
      b, loc, getInput().getType(), dy, getWeight(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupAttr());
  Value dw = ConvBackwardFilterOp::create(
      b, loc, getWeight().getType(), dy, getInput(), getStridesAttr(),
      getPadsAttr(), getDilationsAttr(), getGroupAttr());
  operandGrads.assign({dx, dw});
  if (getBias()) {
    // The bias is added at every image and position of its filter.
    SmallVector<int64_t> axes = {0};
    for (int64_t d = 2; d < getType().getRank(); ++d)
      axes.push_back(d);
    operandGrads.push_back(ReduceSumOp::create(
        b, loc, dy, b.getDenseI64ArrayAttr(axes), b.getBoolAttr(false)));
  }
  return success();
}

LogicalResult ConvBackwardDataOp::verify() {
  return verifyConvShapes(getLoc(), getInputGrad().getType(),
                          getWeight().getType(), getOutputGrad().getType(),
                          getStrides(), getPads(), getDilations(), getGroup());
}

int64_t ConvBackwardDataOp::getWorkspaceBytes() {
  return convColumnBytes(getWeight().getType(), getOutputGrad().getType());
}

LogicalResult ConvBackwardFilterOp::verify() {
  return verifyConvShapes(getLoc(), getInput().getType(),
                          getWeightGrad().getType(), getOutputGrad().getType(),
                          getStrides(), getPads(), getDilations(), getGroup());
}

int64_t ConvBackwardFilterOp::getWorkspaceBytes() {
  return convColumnBytes(getWeightGrad().getType(), getOutputGrad().getType());
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// Checks that pooling `input` gives `outputGrad`'s shape, both of one
/// floating-point element type.
static LogicalResult
verifyPoolShapes(std::optional<Location> loc, RankedTensorType input,
                 RankedTensorType outputGrad, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                 ArrayRef<int64_t> dilations, bool ceilMode) {
  if (!input || !outputGrad)
    return emitOptionalError(loc, "operands must be static-shaped tensors");
  if (input.getElementType() != outputGrad.getElementType())
    return emitOptionalError(loc, "the input ", input,
                             " and the output gradient ", outputGrad,
                             " must have one element type");
  if (input.getRank() < 3)
    return emitOptionalError(loc, "the input must be [N, C, spatial...], got ",
                             input);
  SmallVector<int64_t> shape;
  if (failed(windowResultShape(loc, input.getShape(), input.getDimSize(1),
                               kernel, strides, pads, dilations, ceilMode,
                               shape)))
    return failure();
  if (ArrayRef<int64_t>(shape) != outputGrad.getShape())
    return emitOptionalError(loc, "pooling ", input, " gives [", shape,
                             "], not the output gradient's ", outputGrad);
  return success();
}

LogicalResult
MaxPoolBackwardOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (failed(verifyPoolShapes(
          loc, input, getStaticTensorType(adaptor.getOutputGrad().getType()),
          adaptor.getKernelShape(), adaptor.getStrides(), adaptor.getPads(),
          adaptor.getDilations(), adaptor.getCeilMode())))
    return failure();
  types.push_back(input);
  return success();
}

LogicalResult AveragePoolBackwardOp::verify() {
  return verifyPoolShapes(
      getLoc(), getInputGrad().getType(), getOutputGrad().getType(),
      getKernelShape(), getStrides(), getPads(), getDilations(), getCeilMode());
}

void MaxPoolOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult MaxPoolOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({MaxPoolBackwardOp::create(
      b, getLoc(), resultGrads[0], getInput(), getKernelShapeAttr(),
      getStridesAttr(), getPadsAttr(), getDilationsAttr(), getCeilModeAttr())});
  return success();
}

void MaxPoolWithIndicesOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult
MaxPoolWithIndicesOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // The indices are integers: only the values carry a gradient. The
  // backward finds each maximum again in the input rather than reading the
  // indices, which are as large as the values and no cheaper to keep.
  Value dy = resultGrads[0];
  operandGrads.assign(
      {dy ? MaxPoolBackwardOp::create(b, getLoc(), dy, getInput(),
                                      getKernelShapeAttr(), getStridesAttr(),
                                      getPadsAttr(), getDilationsAttr(),
                                      getCeilModeAttr())
                .getResult()
          : Value()});
  return success();
}

void AveragePoolOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult
AveragePoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                             SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({AveragePoolBackwardOp::create(
      b, getLoc(), getInput().getType(), resultGrads[0], getKernelShapeAttr(),
      getStridesAttr(), getPadsAttr(), getDilationsAttr(), getCeilModeAttr(),
      getCountIncludePadAttr())});
  return success();
}

void GlobalAveragePoolOp::getBackwardReads(SmallVectorImpl<Value> &) {}

LogicalResult
GlobalAveragePoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                   SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  ArrayRef<int64_t> shape = shapeOf(getInput());
  int64_t size = *checkedNumElements(shape.drop_front(2));
  Value dy = resultGrads[0];
  // Scaled before the expansion, on the small tensor. An empty plane has no
  // gradient to scale.
  if (size > 1)
    dy = MulOp::create(b, loc, dy,
                       scalarConstant(b, loc, elementTypeOf(dy), 1.0 / size));
  operandGrads.assign({expandTo(b, loc, dy, shape)});
  return success();
}

void GlobalMaxPoolOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getInput());
}

LogicalResult
GlobalMaxPoolOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                               SmallVectorImpl<Value> &operandGrads) {
  // One window per plane: the same first-maximum rule as the forward's.
  ArrayRef<int64_t> shape = shapeOf(getInput());
  if (llvm::is_contained(shape.drop_front(2), 0))
    return emitError("cannot differentiate a global max pool of empty "
                     "planes");
  int64_t spatial = shape.size() - 2;
  SmallVector<int64_t> ones(spatial, 1), zeros(2 * spatial, 0);
  operandGrads.assign({MaxPoolBackwardOp::create(
      b, getLoc(), resultGrads[0], getInput(),
      b.getDenseI64ArrayAttr(shape.drop_front(2)), b.getDenseI64ArrayAttr(ones),
      b.getDenseI64ArrayAttr(zeros), b.getDenseI64ArrayAttr(ones),
      b.getBoolAttr(false))});
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// Refuses a gradient flowing into results that have none.
static LogicalResult expectNoGradient(Operation *op,
                                      ArrayRef<Value> resultGrads,
                                      ArrayRef<unsigned> results,
                                      StringRef what) {
  for (unsigned r : results)
    if (resultGrads[r])
      return op->emitError("cannot differentiate through ")
             << what << " (result " << r << "): they have no gradient";
  return success();
}

bool BatchNormOp::hasGradient(unsigned index) {
  // The statistics are constants of the inference form and only feed the
  // running statistics in the training form.
  return index < 3 && isDifferentiableType(getOperand(index).getType());
}

void BatchNormOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getScale()});
  if (!getTraining())
    reads.append({getMean(), getVar()});
}

LogicalResult BatchNormOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (failed(expectNoGradient(*this, resultGrads, {1, 2},
                              "batch norm's running statistics")))
    return failure();
  // The backward op gives the bias gradient the scale's type.
  if (getBias().getType() != getScale().getType())
    return emitError("cannot differentiate a batch norm whose scale and bias "
                     "types differ");
  bool training = getTraining();
  auto backward = BatchNormBackwardOp::create(
      b, getLoc(), resultGrads[0], getInput(), getScale(),
      training ? Value() : getMean(), training ? Value() : getVar(),
      getEpsilonAttr());
  operandGrads.assign({backward.getInputGrad(), backward.getScaleGrad(),
                       backward.getBiasGrad(), Value(), Value()});
  return success();
}

LogicalResult BatchNormBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto dy = getStaticTensorType(adaptor.getOutputGrad().getType());
  auto x = getStaticTensorType(adaptor.getInput().getType());
  if (!dy || !x || x.getRank() < 2 || dy != x)
    return emitOptionalError(loc, "the output gradient and the input must be "
                                  "[N, C, ...] tensors of one type");
  if (bool(adaptor.getMean()) != bool(adaptor.getVar()))
    return emitOptionalError(loc, "takes both mean and var (inference form) "
                                  "or neither (training form)");
  // As the forward's, the per-channel operands may have another float type
  // than the input (ONNX's T, T1 and T2).
  int64_t channels = x.getDimSize(1);
  for (Value v : {adaptor.getScale(), adaptor.getMean(), adaptor.getVar()}) {
    if (!v)
      continue;
    auto type = getStaticTensorType(v.getType());
    if (!type || type.getRank() != 1 || type.getDimSize(0) != channels)
      return emitOptionalError(loc, "scale, mean and var must be [", channels,
                               "], got ", v.getType());
  }
  Type scale = adaptor.getScale().getType();
  types.append({x, scale, scale});
  return success();
}

void LayerNormOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getInput(), getScale(), getMean(), getInvStdDev()});
}

LogicalResult LayerNormOp::buildGradient(OpBuilder &b,
                                         ArrayRef<Value> resultGrads,
                                         SmallVectorImpl<Value> &operandGrads) {
  if (failed(expectNoGradient(*this, resultGrads, {1, 2},
                              "layer norm's mean and inverse deviation")))
    return failure();
  Location loc = getLoc();
  Value dy = resultGrads[0];
  auto backward =
      LayerNormBackwardOp::create(b, loc, dy, getInput(), getScale(), getMean(),
                                  getInvStdDev(), getAxisAttr());
  operandGrads.assign({backward.getInputGrad(), backward.getScaleGrad()});
  if (Value bias = getBias()) {
    // The bias is added to every row: sum the rows, then undo its own
    // broadcast over the normalized dimensions.
    int64_t axis = getAxis();
    SmallVector<int64_t> outer;
    for (int64_t d = 0; d < axis; ++d)
      outer.push_back(d);
    Value rows = dy;
    if (!outer.empty())
      rows = ReduceSumOp::create(b, loc, dy, b.getDenseI64ArrayAttr(outer),
                                 b.getBoolAttr(false));
    operandGrads.push_back(
        sumToShape(b, loc, rows, cast<ShapedType>(bias.getType())));
  }
  return success();
}

LogicalResult LayerNormBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto dy = getStaticTensorType(adaptor.getOutputGrad().getType());
  auto x = getStaticTensorType(adaptor.getInput().getType());
  if (!dy || !x || dy != x)
    return emitOptionalError(loc, "the output gradient and the input must be "
                                  "static tensors of one type");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= x.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             x.getRank());
  ArrayRef<int64_t> normalized = x.getShape().drop_front(axis);
  auto scale = getStaticTensorType(adaptor.getScale().getType());
  auto broadcast =
      scale ? broadcastShapes(normalized, scale.getShape()) : std::nullopt;
  if (!broadcast || ArrayRef<int64_t>(*broadcast) != normalized ||
      scale.getElementType() != x.getElementType())
    return emitOptionalError(loc,
                             "the scale must broadcast to the normalized "
                             "shape of ",
                             x, " from axis ", axis, " and share its type");
  SmallVector<int64_t> statShape(x.getShape());
  for (int64_t d = axis; d < x.getRank(); ++d)
    statShape[d] = 1;
  RankedTensorType stats = x.clone(statShape);
  if (adaptor.getMean().getType() != stats ||
      adaptor.getInvStdDev().getType() != stats)
    return emitOptionalError(loc, "mean and inv_std_dev must be ", stats);
  types.append({x, scale});
  return success();
}

//===----------------------------------------------------------------------===//
// Softmax and dropout
//===----------------------------------------------------------------------===//

/// The output gradient and the forward output: one type, `axis` in range.
static LogicalResult inferSoftmaxBackward(std::optional<Location> loc,
                                          Value outputGrad, Value output,
                                          int64_t axis,
                                          SmallVectorImpl<Type> &types) {
  auto dy = getStaticTensorType(outputGrad.getType());
  if (!dy || dy != output.getType())
    return emitOptionalError(loc, "the output gradient and the output must be "
                                  "static tensors of one type");
  if (axis < 0 || axis >= dy.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             dy.getRank());
  types.push_back(dy);
  return success();
}

LogicalResult
SoftmaxBackwardOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  return inferSoftmaxBackward(loc, adaptor.getOutputGrad(), adaptor.getOutput(),
                              adaptor.getAxis(), types);
}

LogicalResult LogSoftmaxBackwardOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  return inferSoftmaxBackward(loc, adaptor.getOutputGrad(), adaptor.getOutput(),
                              adaptor.getAxis(), types);
}

void SoftmaxOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult SoftmaxOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({SoftmaxBackwardOp::create(b, getLoc(), resultGrads[0],
                                                 getOutput(), getAxisAttr())});
  return success();
}

void LogSoftmaxOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.push_back(getOutput());
}

LogicalResult
LogSoftmaxOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                            SmallVectorImpl<Value> &operandGrads) {
  operandGrads.assign({LogSoftmaxBackwardOp::create(
      b, getLoc(), resultGrads[0], getOutput(), getAxisAttr())});
  return success();
}

/// Whether the dropout zeroes anything (otherwise it is the identity).
static bool dropsElements(DropoutOp op) {
  return op.getTraining() && op.getRatio().convertToDouble() != 0;
}

void DropoutOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  if (dropsElements(*this))
    reads.push_back(getMask());
}

LogicalResult DropoutOp::buildGradient(OpBuilder &b,
                                       ArrayRef<Value> resultGrads,
                                       SmallVectorImpl<Value> &operandGrads) {
  Value dy = resultGrads[0];
  if (dy && dropsElements(*this))
    dy = DropoutBackwardOp::create(b, getLoc(), dy, getMask(), getRatioAttr());
  operandGrads.assign({dy});
  return success();
}

LogicalResult
DropoutBackwardOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  auto dy = getStaticTensorType(adaptor.getOutputGrad().getType());
  auto mask = getStaticTensorType(adaptor.getMask().getType());
  if (!dy || !mask || dy.getShape() != mask.getShape())
    return emitOptionalError(loc, "the output gradient and the mask must be "
                                  "static tensors of one shape");
  double ratio = adaptor.getRatio().convertToDouble();
  if (!(ratio >= 0 && ratio < 1))
    return emitOptionalError(loc, "ratio ", ratio, " must lie in [0, 1)");
  types.push_back(dy);
  return success();
}
