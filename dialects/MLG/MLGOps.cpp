//===- MLGOps.cpp - mlg tensor ops, shape inference and folding -----------===//
//
// The generated op definitions, plus shape inference, verifiers and folders
// of the data-movement ops (MLGTensorOps.td). Elementwise, NN and reduction
// ops live in their own files. Shape inference never trusts its operands: it
// runs on ops the importer built from untrusted files, before verification.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "FoldUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlg;

#define GET_OP_CLASSES
#include "mlg/Dialect/MLG/MLGOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Folding helpers
//===----------------------------------------------------------------------===//

DenseElementsAttr mlg::getFoldable(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldElements)
    return nullptr;
  return dense;
}

bool mlg::isUnsignedLike(Type elementType) {
  auto intType = dyn_cast<IntegerType>(elementType);
  return intType && (intType.isUnsigned() || intType.getWidth() == 1);
}

SmallVector<int64_t> mlg::rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

SmallVector<int64_t> mlg::broadcastIndexMap(ArrayRef<int64_t> outShape,
                                            ArrayRef<int64_t> inShape) {
  int64_t n = checkedNumElements(outShape).value_or(0);
  SmallVector<int64_t> map(n);
  SmallVector<int64_t> outStrides = rowMajorStrides(outShape);
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  size_t offset = outShape.size() - inShape.size();
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat, in = 0;
    for (size_t d = 0; d < outShape.size(); ++d) {
      int64_t idx = rem / outStrides[d];
      rem %= outStrides[d];
      if (d >= offset && inShape[d - offset] != 1)
        in += idx * inStrides[d - offset];
    }
    map[flat] = in;
  }
  return map;
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto value = adaptor.getValue();
  auto type = value ? getStaticTensorType(value.getType()) : nullptr;
  if (!type)
    return emitOptionalError(loc, "value must be a static-shaped tensor");
  types.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// ShapeOp
//===----------------------------------------------------------------------===//

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  int64_t start = adaptor.getStart(), end = adaptor.getEnd();
  if (start < 0 || end < start || end > input.getRank())
    return emitOptionalError(loc, "start ", start, " and end ", end,
                             " must satisfy 0 <= start <= end <= rank ",
                             input.getRank());
  types.push_back(
      RankedTensorType::get({end - start}, IntegerType::get(ctx, 64)));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  ArrayRef<int64_t> shape = getInput().getType().getShape();
  return DenseElementsAttr::get(getType(),
                                shape.slice(getStart(), getEnd() - getStart()));
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = checkedNumElements(getInput().getType().getShape());
  auto out = checkedNumElements(getType().getShape());
  if (!in || !out || *in != *out)
    return emitOpError("cannot reshape ")
           << getInput().getType() << " into " << getType()
           << ": the element counts differ";
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    return dense.reshape(getType());
  // reshape(reshape(x)) is one reshape of x.
  if (auto producer = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(producer.getInput());
    return getResult();
  }
  return {};
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  ArrayRef<int64_t> perm = adaptor.getPerm();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(perm.size()) != rank)
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for an operand of rank ", rank);
  SmallVector<bool> seen(rank, false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen[p])
      return emitOptionalError(loc, "perm is not a permutation of [0, ", rank,
                               ")");
    seen[p] = true;
    shape.push_back(input.getDimSize(p));
  }
  types.push_back(input.clone(shape));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  ArrayRef<int64_t> perm = getPerm();
  bool identity = llvm::all_of(llvm::enumerate(perm), [](auto it) {
    return static_cast<int64_t>(it.index()) == it.value();
  });
  if (identity)
    return getInput();
  DenseElementsAttr dense = getFoldable(adaptor.getInput());
  if (!dense)
    return {};
  if (dense.isSplat())
    return dense.resizeSplat(getType());
  ArrayRef<int64_t> inShape = getInput().getType().getShape();
  ArrayRef<int64_t> outShape = getType().getShape();
  SmallVector<int64_t> inStrides = rowMajorStrides(inShape);
  SmallVector<int64_t> outStrides = rowMajorStrides(outShape);
  SmallVector<Attribute> in(dense.getValues<Attribute>());
  SmallVector<Attribute> out(in.size());
  for (int64_t flat = 0, e = in.size(); flat < e; ++flat) {
    int64_t rem = flat, src = 0;
    for (size_t d = 0; d < outShape.size(); ++d) {
      src += (rem / outStrides[d]) * inStrides[perm[d]];
      rem %= outStrides[d];
    }
    out[flat] = in[src];
  }
  return DenseElementsAttr::get(getType(), out);
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "needs at least one operand");
  auto first = getStaticTensorType(adaptor.getInputs().front().getType());
  if (!first)
    return emitOptionalError(loc, "operands must be static-shaped tensors");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             first.getRank());
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (auto [i, value] : llvm::enumerate(adaptor.getInputs())) {
    auto type = getStaticTensorType(value.getType());
    if (!type || type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "operand #", i, " (", value.getType(),
                               ") does not match operand #0 (", first,
                               ") in rank or element type");
    for (int64_t d = 0; d < first.getRank(); ++d) {
      if (d != axis && type.getDimSize(d) != first.getDimSize(d))
        return emitOptionalError(loc, "operand #", i, " has dimension ", d,
                                 " of size ", type.getDimSize(d), ", expected ",
                                 first.getDimSize(d));
    }
    if (llvm::AddOverflow(shape[axis], type.getDimSize(axis), shape[axis]))
      return emitOptionalError(loc, "concatenated dimension overflows");
  }
  types.push_back(first.clone(shape));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1)
    return getInputs().front();
  SmallVector<DenseElementsAttr> parts;
  for (Attribute attr : adaptor.getInputs()) {
    DenseElementsAttr dense = getFoldable(attr);
    if (!dense)
      return {};
    parts.push_back(dense);
  }
  if (!checkedNumElements(getType().getShape()) ||
      *checkedNumElements(getType().getShape()) > kMaxFoldElements)
    return {};
  ArrayRef<int64_t> outShape = getType().getShape();
  int64_t axis = getAxis();
  // Rows: the product of the dimensions before the axis.
  int64_t rows = 1;
  for (int64_t d = 0; d < axis; ++d)
    rows *= outShape[d];
  SmallVector<Attribute> out;
  SmallVector<SmallVector<Attribute>> values;
  SmallVector<int64_t> chunk;
  for (DenseElementsAttr part : parts) {
    values.emplace_back(part.getValues<Attribute>());
    chunk.push_back(rows ? part.getNumElements() / rows : 0);
  }
  for (int64_t r = 0; r < rows; ++r)
    for (size_t p = 0; p < parts.size(); ++p)
      out.append(values[p].begin() + r * chunk[p],
                 values[p].begin() + (r + 1) * chunk[p]);
  return DenseElementsAttr::get(getType(), out);
}

//===----------------------------------------------------------------------===//
// SplitOp
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             input.getRank());
  int64_t total = 0;
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0 || llvm::AddOverflow(total, size, total))
      return emitOptionalError(loc, "split sizes must be non-negative");
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = size;
    types.push_back(input.clone(shape));
  }
  if (total != input.getDimSize(axis))
    return emitOptionalError(loc, "split sizes add up to ", total,
                             " but dimension ", axis, " has ",
                             input.getDimSize(axis));
  return success();
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

/// Elements in [start, end) with step `step`, in normalized form.
static int64_t sliceLength(int64_t start, int64_t end, int64_t step) {
  if (step > 0)
    return end > start ? (end - start + step - 1) / step : 0;
  return start > end ? (start - end + (-step) - 1) / (-step) : 0;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  ArrayRef<int64_t> starts = adaptor.getStarts(), ends = adaptor.getEnds(),
                    steps = adaptor.getSteps();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(starts.size()) != rank ||
      static_cast<int64_t>(ends.size()) != rank ||
      static_cast<int64_t>(steps.size()) != rank)
    return emitOptionalError(loc,
                             "starts, ends and steps need one entry per "
                             "dimension (",
                             rank, ")");
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = input.getDimSize(d), s = starts[d], e = ends[d],
            st = steps[d];
    bool ok =
        st > 0 ? (0 <= s && s <= dim && 0 <= e && e <= dim)
               : (st < 0 && -1 <= s && s <= dim - 1 && -1 <= e && e <= dim - 1);
    if (!ok)
      return emitOptionalError(loc, "dimension ", d, " (size ", dim,
                               "): start ", s, ", end ", e, ", step ", st,
                               " are not normalized");
    shape.push_back(sliceLength(s, e, st));
  }
  types.push_back(input.clone(shape));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() &&
      llvm::all_of(getSteps(), [](int64_t s) { return s == 1; }))
    return getInput();
  DenseElementsAttr dense = getFoldable(adaptor.getInput());
  if (!dense)
    return {};
  if (dense.isSplat())
    return dense.resizeSplat(getType());
  ArrayRef<int64_t> outShape = getType().getShape();
  SmallVector<int64_t> inStrides =
      rowMajorStrides(getInput().getType().getShape());
  SmallVector<int64_t> outStrides = rowMajorStrides(outShape);
  SmallVector<Attribute> in(dense.getValues<Attribute>());
  int64_t n = checkedNumElements(outShape).value_or(0);
  SmallVector<Attribute> out(n);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat, src = 0;
    for (size_t d = 0; d < outShape.size(); ++d) {
      int64_t idx = rem / outStrides[d];
      rem %= outStrides[d];
      src += (getStarts()[d] + idx * getSteps()[d]) * inStrides[d];
    }
    out[flat] = in[src];
  }
  return DenseElementsAttr::get(getType(), out);
}

//===----------------------------------------------------------------------===//
// GatherOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto data = getStaticTensorType(adaptor.getData().getType());
  auto indices = getStaticTensorType(adaptor.getIndices().getType());
  if (!data || !indices)
    return emitOptionalError(loc, "operands must be static-shaped tensors");
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             data.getRank());
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  types.push_back(data.clone(shape));
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  DenseElementsAttr data = getFoldable(adaptor.getData());
  DenseElementsAttr indices = getFoldable(adaptor.getIndices());
  if (!data || !indices ||
      checkedNumElements(getType().getShape()).value_or(kMaxFoldElements + 1) >
          kMaxFoldElements)
    return {};
  ArrayRef<int64_t> dataShape = getData().getType().getShape();
  int64_t axis = getAxis(), dim = dataShape[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= dataShape[d];
  for (size_t d = axis + 1; d < dataShape.size(); ++d)
    inner *= dataShape[d];
  SmallVector<int64_t> idx;
  for (const APInt &v : indices.getValues<APInt>()) {
    int64_t i = v.getSExtValue();
    if (i < 0)
      i += dim;
    if (i < 0 || i >= dim)
      return {}; // out of range: left for the runtime to report
    idx.push_back(i);
  }
  SmallVector<Attribute> in(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx)
      out.append(in.begin() + (o * dim + i) * inner,
                 in.begin() + (o * dim + i + 1) * inner);
  return DenseElementsAttr::get(getType(), out);
}

//===----------------------------------------------------------------------===//
// PadOp
//===----------------------------------------------------------------------===//

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  ArrayRef<int64_t> pads = adaptor.getPads();
  int64_t rank = input.getRank();
  if (static_cast<int64_t>(pads.size()) != 2 * rank)
    return emitOptionalError(loc, "pads has ", pads.size(),
                             " entries, expected 2 * rank = ", 2 * rank);
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d) {
    int64_t dim = input.getDimSize(d), before = pads[d], after = pads[d + rank];
    int64_t size;
    if (llvm::AddOverflow(dim, before, size) ||
        llvm::AddOverflow(size, after, size) || size < 0)
      return emitOptionalError(loc, "padding dimension ", d, " (size ", dim,
                               ") by ", before, " and ", after,
                               " gives a negative or overflowing size");
    if (adaptor.getMode() == PadMode::reflect &&
        (before >= dim || after >= dim) && (before > 0 || after > 0))
      return emitOptionalError(loc, "reflect padding of dimension ", d,
                               " must be smaller than its size ", dim);
    if (adaptor.getMode() == PadMode::edge && dim == 0 &&
        (before > 0 || after > 0))
      return emitOptionalError(loc, "edge padding of the empty dimension ", d);
    shape.push_back(size);
  }
  types.push_back(input.clone(shape));
  return success();
}

//===----------------------------------------------------------------------===//
// ExpandOp
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::verify() {
  auto shape =
      broadcastShapes(getInput().getType().getShape(), getType().getShape());
  if (!shape || ArrayRef<int64_t>(*shape) != getType().getShape())
    return emitOpError("cannot broadcast ")
           << getInput().getType() << " to " << getType();
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
      dense && dense.isSplat())
    return dense.resizeSplat(getType());
  return {};
}

//===----------------------------------------------------------------------===//
// TileOp
//===----------------------------------------------------------------------===//

LogicalResult TileOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto input = getStaticTensorType(adaptor.getInput().getType());
  if (!input)
    return emitOptionalError(loc, "operand must be a static-shaped tensor");
  ArrayRef<int64_t> repeats = adaptor.getRepeats();
  if (static_cast<int64_t>(repeats.size()) != input.getRank())
    return emitOptionalError(loc, "repeats has ", repeats.size(),
                             " entries for an operand of rank ",
                             input.getRank());
  SmallVector<int64_t> shape;
  for (auto [dim, r] : llvm::zip(input.getShape(), repeats)) {
    int64_t size;
    if (r < 0 || llvm::MulOverflow(dim, r, size))
      return emitOptionalError(loc, "repeats must be non-negative and the "
                                    "result size must fit in 64 bits");
    shape.push_back(size);
  }
  types.push_back(input.clone(shape));
  return success();
}
