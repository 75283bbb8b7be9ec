//===- Tensor.cpp - importers of constant, shape and data-movement ops ----===//
//
// Operands that ONNX passes as tensors but that decide a result's shape
// (Reshape's shape, Slice's bounds, Pad's amounts, ...) must fold to
// constants here; they become attributes or the result type. Flatten,
// Squeeze and Unsqueeze become `mlg.reshape`; ConstantOfShape, Size and Range
// become constants; Identity forwards its input.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"
#include "../Tensors.h"

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

/// The most elements ConstantOfShape may give its (splat) constant, and Range
/// its (element by element) one: larger ones are almost certainly malformed.
static constexpr int64_t kMaxMaterializedElements = int64_t(1) << 28;
static constexpr int64_t kMaxRangeElements = int64_t(1) << 20;

static LogicalResult reshapeTo(NodeContext &ctx, Value input,
                               ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  auto out = ctx.create1<ReshapeOp>({input}, {}, {type.clone(shape)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importIdentity(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  return ctx.setOutputs(ctx.input(0));
}

static LogicalResult importConstant(NodeContext &ctx) {
  if (failed(ctx.checkArity(0, 0)))
    return failure();
  if (ctx.node.attribute_size() != 1)
    return ctx.emitError() << "needs exactly one value attribute";
  const onnx::AttributeProto &attr = ctx.node.attribute(0);
  StringRef name = attr.name();
  Builder &b = ctx.builder();
  DenseElementsAttr value;
  if (name == "value") {
    FailureOr<DenseElementsAttr> t = ctx.getTensor("value");
    if (failed(t))
      return failure();
    value = *t;
  } else if (name == "value_float") {
    FailureOr<double> f = ctx.getFloat(name);
    if (failed(f))
      return failure();
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   static_cast<float>(*f));
  } else if (name == "value_floats") {
    FailureOr<SmallVector<double>> fs = ctx.getFloats(name);
    if (failed(fs))
      return failure();
    SmallVector<float> values(fs->begin(), fs->end());
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(values.size())},
                              b.getF32Type()),
        ArrayRef<float>(values));
  } else if (name == "value_int") {
    FailureOr<int64_t> i = ctx.getInt(name);
    if (failed(i))
      return failure();
    value =
        DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()), *i);
  } else if (name == "value_ints") {
    FailureOr<SmallVector<int64_t>> is = ctx.getInts(name);
    if (failed(is))
      return failure();
    value = DenseElementsAttr::get(
        RankedTensorType::get({static_cast<int64_t>(is->size())},
                              b.getI64Type()),
        ArrayRef<int64_t>(*is));
  } else {
    return ctx.emitError() << "a constant given by '" << name
                           << "' is not supported";
  }
  return ctx.setOutputs(ctx.constant(value));
}

static LogicalResult importConstantOfShape(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = ctx.constantInts(0, "shape");
  if (failed(shape))
    return failure();
  std::optional<int64_t> n = checkedNumElements(*shape);
  if (!n || *n > kMaxMaterializedElements)
    return ctx.emitError() << "shape [" << ArrayRef<int64_t>(*shape)
                           << "] is negative or too large for a constant";
  DenseElementsAttr fill;
  if (ctx.hasAttr("value")) {
    FailureOr<DenseElementsAttr> v = ctx.getTensor("value");
    if (failed(v))
      return failure();
    if (v->getNumElements() != 1)
      return ctx.emitError() << "value must hold one element";
    fill = *v;
  } else {
    fill = DenseElementsAttr::get(
        RankedTensorType::get({}, ctx.builder().getF32Type()), 0.0f);
  }
  auto type = RankedTensorType::get(*shape, fill.getElementType());
  return ctx.setOutputs(ctx.constant(
      DenseElementsAttr::get(type, *fill.value_begin<Attribute>())));
}

static LogicalResult importShape(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  int64_t rank = ctx.inputType(0).getRank();
  FailureOr<int64_t> start = ctx.getInt("start", 0);
  FailureOr<int64_t> end = ctx.getInt("end", rank);
  if (failed(start) || failed(end))
    return failure();
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v += rank;
    return std::clamp<int64_t>(v, 0, rank);
  };
  int64_t s = clamp(*start), e = std::max(s, clamp(*end));
  auto out = ctx.create1<ShapeOp>(
      {ctx.input(0)}, {ctx.i64Attr("start", s), ctx.i64Attr("end", e)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importSize(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  auto type = RankedTensorType::get({}, ctx.builder().getI64Type());
  return ctx.setOutputs(ctx.constant(
      DenseElementsAttr::get(type, ctx.inputType(0).getNumElements())));
}

static LogicalResult importReshape(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<SmallVector<int64_t>> target = ctx.constantInts(1, "target shape");
  FailureOr<int64_t> allowZero = ctx.getInt("allowzero", 0);
  if (failed(target) || failed(allowZero))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  SmallVector<int64_t> shape(*target);
  int64_t inferred = -1, known = 1;
  for (auto [i, d] : llvm::enumerate(shape)) {
    if (d == 0 && !*allowZero) {
      if (static_cast<int64_t>(i) >= in.getRank())
        return ctx.emitError() << "target shape copies dimension " << i
                               << " of a rank-" << in.getRank() << " input";
      d = in.getDimSize(i);
    }
    if (d == -1) {
      if (inferred >= 0)
        return ctx.emitError() << "target shape has more than one -1";
      inferred = i;
      continue;
    }
    if (d < 0 || llvm::MulOverflow(known, d, known))
      return ctx.emitError() << "target shape [" << ArrayRef<int64_t>(*target)
                             << "] is invalid";
  }
  int64_t total = in.getNumElements();
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return ctx.emitError() << "cannot reshape " << in << " to ["
                             << ArrayRef<int64_t>(*target) << "]";
    shape[inferred] = total / known;
  }
  return reshapeTo(ctx, ctx.input(0), shape);
}

static LogicalResult importFlatten(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  FailureOr<int64_t> axis = ctx.getInt("axis", 1);
  if (failed(axis))
    return failure();
  int64_t a = *axis < 0 ? *axis + in.getRank() : *axis;
  if (a < 0 || a > in.getRank())
    return ctx.emitError() << "axis " << *axis << " is out of range for rank "
                           << in.getRank();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < in.getRank(); ++d)
    (d < a ? outer : inner) *= in.getDimSize(d);
  return reshapeTo(ctx, ctx.input(0), {outer, inner});
}

/// Axes from the attribute (old opsets) or the optional input #1.
static FailureOr<std::optional<SmallVector<int64_t>>>
getAxes(NodeContext &ctx, int64_t inputSince) {
  if (ctx.opset < inputSince) {
    if (!ctx.hasAttr("axes"))
      return std::optional<SmallVector<int64_t>>();
    auto axes = ctx.getInts("axes");
    if (failed(axes))
      return failure();
    return std::optional<SmallVector<int64_t>>(*axes);
  }
  if (!ctx.hasInput(1))
    return std::optional<SmallVector<int64_t>>();
  auto axes = ctx.constantInts(1, "axes");
  if (failed(axes))
    return failure();
  return std::optional<SmallVector<int64_t>>(*axes);
}

/// Normalizes axes against `rank`: non-negative, sorted, unique.
static FailureOr<SmallVector<int64_t>>
normalizeAxes(NodeContext &ctx, ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> out;
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = ctx.normalizeAxis(axis, rank);
    if (failed(a))
      return failure();
    out.push_back(*a);
  }
  llvm::sort(out);
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    return ctx.emitError() << "axes repeat an axis";
  return out;
}

static LogicalResult importSqueeze(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, ctx.opset < 13 ? 1 : 2)))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  auto axes = getAxes(ctx, 13);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> squeezed;
  if (*axes) {
    auto norm = normalizeAxes(ctx, **axes, in.getRank());
    if (failed(norm))
      return failure();
    squeezed = *norm;
  } else {
    for (int64_t d = 0; d < in.getRank(); ++d)
      if (in.getDimSize(d) == 1)
        squeezed.push_back(d);
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < in.getRank(); ++d) {
    if (!llvm::is_contained(squeezed, d)) {
      shape.push_back(in.getDimSize(d));
    } else if (in.getDimSize(d) != 1) {
      return ctx.emitError() << "cannot squeeze dimension " << d << " of size "
                             << in.getDimSize(d);
    }
  }
  return reshapeTo(ctx, ctx.input(0), shape);
}

static LogicalResult importUnsqueeze(NodeContext &ctx) {
  if (failed(ctx.checkArity(ctx.opset < 13 ? 1 : 2, ctx.opset < 13 ? 1 : 2)))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  auto axes = getAxes(ctx, 13);
  if (failed(axes))
    return failure();
  if (!*axes)
    return ctx.emitError() << "axes are required";
  int64_t rank = in.getRank() + static_cast<int64_t>((*axes)->size());
  auto norm = normalizeAxes(ctx, **axes, rank);
  if (failed(norm))
    return failure();
  SmallVector<int64_t> shape;
  int64_t next = 0;
  for (int64_t d = 0; d < rank; ++d)
    shape.push_back(llvm::is_contained(*norm, d) ? 1 : in.getDimSize(next++));
  return reshapeTo(ctx, ctx.input(0), shape);
}

static LogicalResult importTranspose(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  int64_t rank = ctx.inputType(0).getRank();
  SmallVector<int64_t> reversed;
  for (int64_t d = rank - 1; d >= 0; --d)
    reversed.push_back(d);
  FailureOr<SmallVector<int64_t>> perm = ctx.getInts("perm", reversed);
  if (failed(perm))
    return failure();
  auto out = ctx.create1<TransposeOp>({ctx.input(0)},
                                      {ctx.i64ArrayAttr("perm", *perm)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importConcat(NodeContext &ctx) {
  int n = ctx.node.input_size();
  if (n < 1 || failed(ctx.checkArity(n, n)))
    return ctx.emitError() << "needs at least one input";
  SmallVector<Value> inputs;
  for (int i = 0; i < n; ++i)
    inputs.push_back(ctx.input(i));
  FailureOr<int64_t> axis = ctx.getInt("axis");
  if (failed(axis))
    return failure();
  FailureOr<int64_t> a = ctx.normalizeAxis(*axis, ctx.inputType(0).getRank());
  if (failed(a))
    return failure();
  auto out = ctx.create1<ConcatOp>(inputs, {ctx.i64Attr("axis", *a)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importSplit(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, ctx.opset < 13 ? 1 : 2)))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  FailureOr<int64_t> axis = ctx.getInt("axis", 0);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> a = ctx.normalizeAxis(*axis, in.getRank());
  if (failed(a))
    return failure();
  SmallVector<int64_t> sizes;
  int64_t parts = ctx.node.output_size();
  if (ctx.opset < 13 && ctx.hasAttr("split")) {
    auto s = ctx.getInts("split");
    if (failed(s))
      return failure();
    sizes = *s;
  } else if (ctx.opset >= 13 && ctx.hasInput(1)) {
    auto s = ctx.constantInts(1, "split sizes");
    if (failed(s))
      return failure();
    sizes = *s;
  } else {
    int64_t dim = in.getDimSize(*a);
    if (parts <= 0 || dim % parts != 0)
      return ctx.emitError() << "cannot split dimension " << *a << " of size "
                             << dim << " into " << parts << " equal parts";
    sizes.assign(parts, dim / parts);
  }
  if (static_cast<int64_t>(sizes.size()) != parts)
    return ctx.emitError() << "has " << parts << " outputs but " << sizes.size()
                           << " split sizes";
  auto out = ctx.create<SplitOp>(
      {ctx.input(0)},
      {ctx.i64Attr("axis", *a), ctx.i64ArrayAttr("sizes", sizes)}, {},
      sizes.size());
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importSlice(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 5)))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  int64_t rank = in.getRank();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (ctx.opset < 10) {
    if (failed(ctx.checkArity(1, 1)))
      return failure();
    auto s = ctx.getInts("starts");
    auto e = ctx.getInts("ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (ctx.hasAttr("axes")) {
      auto a = ctx.getInts("axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
  } else {
    if (failed(ctx.checkArity(3, 5)))
      return failure();
    auto s = ctx.constantInts(1, "starts");
    auto e = ctx.constantInts(2, "ends");
    if (failed(s) || failed(e))
      return failure();
    starts = *s;
    ends = *e;
    if (ctx.hasInput(3)) {
      auto a = ctx.constantInts(3, "axes");
      if (failed(a))
        return failure();
      axes = *a;
    }
    if (ctx.hasInput(4)) {
      auto st = ctx.constantInts(4, "steps");
      if (failed(st))
        return failure();
      steps = *st;
    }
  }
  if (axes.empty())
    for (int64_t i = 0, e = starts.size(); i < e; ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || starts.size() != axes.size() ||
      starts.size() != steps.size())
    return ctx.emitError() << "starts, ends, axes and steps differ in length";
  // Normalized: every dimension gets (start, end, step), clamped as ONNX says.
  SmallVector<int64_t> nStarts(rank, 0), nEnds(in.getShape()), nSteps(rank, 1);
  SmallVector<bool> seen(rank, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    FailureOr<int64_t> a = ctx.normalizeAxis(axes[i], rank);
    if (failed(a))
      return failure();
    if (seen[*a])
      return ctx.emitError() << "axis " << *a << " is sliced twice";
    seen[*a] = true;
    int64_t dim = in.getDimSize(*a), step = steps[i];
    if (step == 0)
      return ctx.emitError() << "step 0 on axis " << *a;
    int64_t start = starts[i], end = ends[i];
    if (start < 0)
      start += dim;
    if (end < 0)
      end += dim;
    if (step > 0) {
      start = std::clamp<int64_t>(start, 0, dim);
      end = std::clamp<int64_t>(end, 0, dim);
    } else if (dim == 0) {
      start = end = -1;
    } else {
      start = std::clamp<int64_t>(start, 0, dim - 1);
      end = std::clamp<int64_t>(end, -1, dim - 1);
    }
    nStarts[*a] = start;
    nEnds[*a] = end;
    nSteps[*a] = step;
  }
  auto out =
      ctx.create1<SliceOp>({ctx.input(0)}, {ctx.i64ArrayAttr("starts", nStarts),
                                            ctx.i64ArrayAttr("ends", nEnds),
                                            ctx.i64ArrayAttr("steps", nSteps)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importGather(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<int64_t> axis = ctx.getInt("axis", 0);
  if (failed(axis))
    return failure();
  FailureOr<int64_t> a = ctx.normalizeAxis(*axis, ctx.inputType(0).getRank());
  if (failed(a))
    return failure();
  auto out = ctx.create1<GatherOp>({ctx.input(0), ctx.input(1)},
                                   {ctx.i64Attr("axis", *a)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importPad(NodeContext &ctx) {
  SmallVector<int64_t> pads;
  double value = 0;
  std::string mode;
  if (ctx.opset < 11) {
    if (failed(ctx.checkArity(1, 1)))
      return failure();
    auto p = ctx.getInts(ctx.opset < 2 ? "paddings" : "pads");
    auto v = ctx.getFloat("value", 0.0);
    if (failed(p) || failed(v))
      return failure();
    pads = *p;
    value = *v;
  } else {
    if (failed(ctx.checkArity(2, 3)))
      return failure();
    auto p = ctx.constantInts(1, "pads");
    if (failed(p))
      return failure();
    pads = *p;
    if (ctx.hasInput(2)) {
      auto v = ctx.constantScalar(2, "constant value");
      if (failed(v))
        return failure();
      value = *v;
    }
  }
  auto m = ctx.getString("mode", std::string("constant"));
  if (failed(m))
    return failure();
  std::optional<PadMode> padMode = symbolizePadMode(*m);
  if (!padMode)
    return ctx.emitError() << "mode '" << *m << "' is not supported";
  auto out = ctx.create1<PadOp>(
      {ctx.input(0)},
      {ctx.i64ArrayAttr("pads", pads),
       ctx.attr("mode", PadModeAttr::get(ctx.getContext(), *padMode)),
       ctx.f64Attr("value", value)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importExpand(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<SmallVector<int64_t>> shape = ctx.constantInts(1, "shape");
  if (failed(shape))
    return failure();
  RankedTensorType in = ctx.inputType(0);
  auto result = broadcastShapes(in.getShape(), *shape);
  if (!result || llvm::any_of(*shape, [](int64_t d) { return d < 0; }))
    return ctx.emitError() << "cannot expand " << in << " to ["
                           << ArrayRef<int64_t>(*shape) << "]";
  auto out = ctx.create1<ExpandOp>({ctx.input(0)}, {}, {in.clone(*result)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importTile(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<SmallVector<int64_t>> repeats = ctx.constantInts(1, "repeats");
  if (failed(repeats))
    return failure();
  auto out = ctx.create1<TileOp>({ctx.input(0)},
                                 {ctx.i64ArrayAttr("repeats", *repeats)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importRange(NodeContext &ctx) {
  if (failed(ctx.checkArity(3, 3)))
    return failure();
  Type element = ctx.inputType(0).getElementType();
  auto start = ctx.constantScalar(0, "start");
  auto limit = ctx.constantScalar(1, "limit");
  auto delta = ctx.constantScalar(2, "delta");
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  if (*delta == 0)
    return ctx.emitError() << "delta is 0";
  double count = std::ceil((*limit - *start) / *delta);
  if (!(count <= static_cast<double>(kMaxRangeElements)))
    return ctx.emitError() << "the range is too large to materialize";
  int64_t n = std::max<int64_t>(0, static_cast<int64_t>(count));
  auto type = RankedTensorType::get({n}, element);
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < n; ++i) {
    double v = *start + i * *delta;
    if (isa<FloatType>(element))
      values.push_back(FloatAttr::get(element, v));
    else
      values.push_back(IntegerAttr::get(element, static_cast<int64_t>(v)));
  }
  return ctx.setOutputs(ctx.constant(DenseElementsAttr::get(type, values)));
}

void mlg::onnx_import::registerTensorOps(OpRegistry &r) {
  r.add("Identity", importIdentity);
  r.add("Constant", importConstant);
  r.add("ConstantOfShape", importConstantOfShape, 9);
  r.add("Shape", importShape);
  r.add("Size", importSize);
  r.add("Reshape", importReshape, 5);
  r.add("Flatten", importFlatten);
  r.add("Squeeze", importSqueeze);
  r.add("Unsqueeze", importUnsqueeze);
  r.add("Transpose", importTranspose);
  r.add("Concat", importConcat);
  r.add("Split", importSplit, 2);
  r.add("Slice", importSlice);
  r.add("Gather", importGather);
  r.add("Pad", importPad, 2);
  r.add("Expand", importExpand, 8);
  r.add("Tile", importTile, 6);
  r.add("Range", importRange, 11);
}
