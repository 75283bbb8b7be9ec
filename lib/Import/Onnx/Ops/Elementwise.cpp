//===- Elementwise.cpp - importers of elementwise operators ---------------===//
//
// Unary and broadcasting binary operators map one to one onto mlg ops;
// variadic Max/Min/Sum/Mean become chains of binary ops; Clip's bounds and
// Cast's target become attributes.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"
#include "../Tensors.h"

#include "mlg/Dialect/MLG/MLGOps.h"

#include <limits>

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

template <typename OpTy> static LogicalResult importUnary(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  auto out = ctx.create1<OpTy>({ctx.input(0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

template <typename OpTy> static LogicalResult importBinary(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  // Opsets before 7 broadcast only with an explicit attribute; the version
  // converter rewrites those models, so any such attribute left is an error.
  if (ctx.hasAttr("broadcast") || ctx.hasAttr("axis"))
    return ctx.emitError() << "legacy broadcast attributes are not supported";
  auto out = ctx.create1<OpTy>({ctx.input(0), ctx.input(1)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

/// Unary ops with float attributes that have defaults.
template <typename OpTy>
static LogicalResult
importParamUnary(NodeContext &ctx,
                 ArrayRef<std::pair<StringRef, double>> params) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  SmallVector<NamedAttribute> attrs;
  for (auto [name, dflt] : params) {
    FailureOr<double> v = ctx.getFloat(name, dflt);
    if (failed(v))
      return failure();
    attrs.push_back(ctx.f64Attr(name, *v));
  }
  auto out = ctx.create1<OpTy>({ctx.input(0)}, attrs);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importLeakyRelu(NodeContext &ctx) {
  return importParamUnary<LeakyReluOp>(ctx, {{"alpha", 0.01}});
}
static LogicalResult importElu(NodeContext &ctx) {
  return importParamUnary<EluOp>(ctx, {{"alpha", 1.0}});
}
static LogicalResult importSelu(NodeContext &ctx) {
  return importParamUnary<SeluOp>(ctx, {{"alpha", 1.67326319217681884765625},
                                        {"gamma", 1.05070102214813232421875}});
}
static LogicalResult importHardSigmoid(NodeContext &ctx) {
  return importParamUnary<HardSigmoidOp>(ctx, {{"alpha", 0.2}, {"beta", 0.5}});
}
/// HardSwish(x) = x * HardSigmoid(x) with alpha 1/6 and beta 1/2 (ONNX's
/// own function body), so its gradient comes from the two ops'.
static LogicalResult importHardSwish(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  auto gate = ctx.create1<HardSigmoidOp>(
      {ctx.input(0)},
      {ctx.f64Attr("alpha", 1.0 / 6.0), ctx.f64Attr("beta", 0.5)});
  if (failed(gate))
    return failure();
  auto out = ctx.create1<MulOp>({ctx.input(0), *gate});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importClip(NodeContext &ctx) {
  SmallVector<NamedAttribute> attrs;
  if (ctx.opset < 11) {
    if (failed(ctx.checkArity(1, 1)))
      return failure();
    for (StringRef name : {"min", "max"}) {
      if (!ctx.hasAttr(name))
        continue;
      FailureOr<double> v = ctx.getFloat(name);
      if (failed(v))
        return failure();
      attrs.push_back(ctx.f64Attr(name, *v));
    }
  } else {
    if (failed(ctx.checkArity(1, 3)))
      return failure();
    const char *names[] = {"min", "max"};
    for (unsigned i = 1; i <= 2; ++i) {
      if (!ctx.hasInput(i))
        continue;
      FailureOr<double> v = ctx.constantScalar(i, names[i - 1]);
      if (failed(v))
        return failure();
      attrs.push_back(ctx.f64Attr(names[i - 1], *v));
    }
  }
  auto out = ctx.create1<ClipOp>({ctx.input(0)}, attrs);
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult castTo(NodeContext &ctx, Type element) {
  RankedTensorType type = ctx.inputType(0);
  auto out = ctx.create1<CastOp>({ctx.input(0)}, {}, {type.clone(element)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

static LogicalResult importCast(NodeContext &ctx) {
  if (failed(ctx.checkArity(1, 1)))
    return failure();
  FailureOr<int64_t> to = ctx.getInt("to");
  if (failed(to))
    return failure();
  Type element = elementTypeOf(static_cast<int32_t>(*to), ctx.getContext());
  if (!element)
    return ctx.emitError() << "casting to "
                           << dataTypeName(static_cast<int32_t>(*to))
                           << " is not supported";
  return castTo(ctx, element);
}

static LogicalResult importCastLike(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  return castTo(ctx, ctx.inputType(1).getElementType());
}

static LogicalResult importMod(NodeContext &ctx) {
  if (failed(ctx.checkArity(2, 2)))
    return failure();
  FailureOr<int64_t> fmod = ctx.getInt("fmod", 0);
  if (failed(fmod))
    return failure();
  if (*fmod == 0 && isa<FloatType>(ctx.inputType(0).getElementType()))
    return ctx.emitError() << "floating-point Mod needs fmod=1";
  auto out = ctx.create1<ModOp>({ctx.input(0), ctx.input(1)},
                                {ctx.boolAttr("fmod", *fmod != 0)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

/// Max, Min and Sum fold their inputs left to right; Mean divides the sum.
template <typename OpTy, bool isMean = false>
static LogicalResult importVariadic(NodeContext &ctx) {
  int n = ctx.node.input_size();
  if (n < 1 || failed(ctx.checkArity(n, n)))
    return ctx.emitError() << "needs at least one input";
  Value acc = ctx.input(0);
  for (int i = 1; i < n; ++i) {
    auto next = ctx.create1<OpTy>({acc, ctx.input(i)});
    if (failed(next))
      return failure();
    acc = *next;
  }
  if constexpr (isMean) {
    auto type = cast<RankedTensorType>(acc.getType());
    auto floatType = dyn_cast<FloatType>(type.getElementType());
    if (!floatType)
      return ctx.emitError() << "Mean needs floating-point inputs";
    APFloat n_(static_cast<double>(n));
    bool lost;
    n_.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
               &lost);
    auto count =
        DenseElementsAttr::get(RankedTensorType::get({}, floatType), n_);
    auto mean = ctx.create1<DivOp>({acc, ctx.constant(count)});
    if (failed(mean))
      return failure();
    acc = *mean;
  }
  return ctx.setOutputs(acc);
}

static LogicalResult importWhere(NodeContext &ctx) {
  if (failed(ctx.checkArity(3, 3)))
    return failure();
  auto out = ctx.create1<WhereOp>({ctx.input(0), ctx.input(1), ctx.input(2)});
  return failed(out) ? failure() : ctx.setOutputs(*out);
}

void mlg::onnx_import::registerElementwiseOps(OpRegistry &r) {
  r.add("Relu", importUnary<ReluOp>);
  r.add("Neg", importUnary<NegOp>);
  r.add("Abs", importUnary<AbsOp>);
  r.add("Sign", importUnary<SignOp>, 9);
  r.add("Sqrt", importUnary<SqrtOp>);
  r.add("Exp", importUnary<ExpOp>);
  r.add("Log", importUnary<LogOp>);
  r.add("Tanh", importUnary<TanhOp>);
  r.add("Sigmoid", importUnary<SigmoidOp>);
  r.add("Reciprocal", importUnary<ReciprocalOp>);
  r.add("Floor", importUnary<FloorOp>);
  r.add("Ceil", importUnary<CeilOp>);
  r.add("Round", importUnary<RoundOp>, 11);
  r.add("Erf", importUnary<ErfOp>, 9);
  r.add("Sin", importUnary<SinOp>, 7);
  r.add("Cos", importUnary<CosOp>, 7);
  r.add("Softplus", importUnary<SoftplusOp>);
  r.add("Softsign", importUnary<SoftsignOp>);
  r.add("Not", importUnary<NotOp>);
  r.add("LeakyRelu", importLeakyRelu);
  r.add("Elu", importElu);
  r.add("Selu", importSelu);
  r.add("HardSigmoid", importHardSigmoid);
  r.add("HardSwish", importHardSwish, 14);
  r.add("Clip", importClip);
  r.add("Cast", importCast);
  r.add("CastLike", importCastLike, 15);
  r.add("Add", importBinary<AddOp>);
  r.add("Sub", importBinary<SubOp>);
  r.add("Mul", importBinary<MulOp>);
  r.add("Div", importBinary<DivOp>);
  r.add("Pow", importBinary<PowOp>);
  r.add("Mod", importMod, 10);
  r.add("Equal", importBinary<EqualOp>);
  r.add("Less", importBinary<LessOp>);
  r.add("LessOrEqual", importBinary<LessOrEqualOp>, 12);
  r.add("Greater", importBinary<GreaterOp>);
  r.add("GreaterOrEqual", importBinary<GreaterOrEqualOp>, 12);
  r.add("And", importBinary<AndOp>);
  r.add("Or", importBinary<OrOp>);
  r.add("Xor", importBinary<XorOp>);
  r.add("Max", importVariadic<MaxOp>);
  r.add("Min", importVariadic<MinOp>);
  r.add("Sum", importVariadic<AddOp>);
  r.add("Mean", importVariadic<AddOp, /*isMean=*/true>);
  r.add("Where", importWhere, 9);
}
