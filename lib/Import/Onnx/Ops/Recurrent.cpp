//===- Recurrent.cpp - importer of LSTM -----------------------------------===//
//
// LSTM with the default activations, in sequence-major layout: `layout = 1`
// (batch-major) is transposed on the way in and out. Sequence lengths are
// accepted only when they are all the full length, since mlg's shapes are
// static.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"

#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

static FailureOr<Value> transpose(NodeContext &ctx, Value v,
                                  ArrayRef<int64_t> perm) {
  return ctx.create1<TransposeOp>({v}, {ctx.i64ArrayAttr("perm", perm)});
}

static LogicalResult importLSTM(NodeContext &ctx) {
  if (failed(ctx.checkArity(3, 8)))
    return failure();
  auto direction = ctx.getString("direction", std::string("forward"));
  auto layout = ctx.getInt("layout", 0);
  auto inputForget = ctx.getInt("input_forget", 0);
  auto activations = ctx.getStrings("activations");
  if (failed(direction) || failed(layout) || failed(inputForget) ||
      failed(activations))
    return failure();
  std::optional<RnnDirection> dir = symbolizeRnnDirection(*direction);
  if (!dir)
    return ctx.emitError() << "direction '" << *direction
                           << "' is not supported";
  int64_t dirs = *dir == RnnDirection::bidirectional ? 2 : 1;
  for (size_t i = 0; i < activations->size(); ++i) {
    static const char *defaults[] = {"Sigmoid", "Tanh", "Tanh"};
    if ((*activations)[i] != defaults[i % 3])
      return ctx.emitError() << "activation '" << (*activations)[i]
                             << "' is not supported; mlg's LSTM uses Sigmoid, "
                                "Tanh, Tanh";
  }
  if (ctx.hasAttr("activation_alpha") || ctx.hasAttr("activation_beta"))
    return ctx.emitError() << "activation parameters are not supported";
  if (*layout != 0 && *layout != 1)
    return ctx.emitError() << "layout must be 0 or 1";
  RankedTensorType r = ctx.inputType(2);
  int64_t hidden = r.getRank() == 3 ? r.getDimSize(2) : 0;
  auto h = ctx.getInt("hidden_size", hidden);
  if (failed(h))
    return failure();

  Value x = ctx.input(0);
  if (*layout == 1) {
    auto t = transpose(ctx, x, {1, 0, 2});
    if (failed(t))
      return failure();
    x = *t;
  }
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getRank() != 3)
    return ctx.emitError() << "X must have rank 3, got " << xType;
  if (ctx.hasInput(4)) {
    auto lens = ctx.constantInts(4, "sequence lengths");
    if (failed(lens))
      return failure();
    for (int64_t len : *lens)
      if (len != xType.getDimSize(0))
        return ctx.emitError()
               << "sequence length " << len
               << " differs from the sequence dimension " << xType.getDimSize(0)
               << "; variable lengths are not supported";
  }
  SmallVector<Value> operands = {x, ctx.input(1), ctx.input(2)};
  SmallVector<int32_t> segments = {1, 1, 1};
  for (unsigned i : {3u, 5u, 6u, 7u}) {
    Value v = ctx.optionalInput(i);
    if (v && *layout == 1 && (i == 5 || i == 6)) {
      auto t = transpose(ctx, v, {1, 0, 2});
      if (failed(t))
        return failure();
      v = *t;
    }
    if (v)
      operands.push_back(v);
    segments.push_back(v ? 1 : 0);
  }
  SmallVector<NamedAttribute> attrs = {
      ctx.i64Attr("hidden_size", *h),
      ctx.attr("direction", RnnDirectionAttr::get(ctx.getContext(), *dir)),
      ctx.boolAttr("input_forget", *inputForget != 0),
      ctx.attr("operandSegmentSizes",
               ctx.builder().getDenseI32ArrayAttr(segments))};
  if (ctx.hasAttr("clip")) {
    auto clip = ctx.getFloat("clip");
    if (failed(clip))
      return failure();
    attrs.push_back(ctx.f64Attr("clip", *clip));
  }
  (void)dirs;
  auto out = ctx.create<LSTMOp>(operands, attrs, {}, 3);
  if (failed(out))
    return failure();
  SmallVector<Value> results = *out;
  if (*layout == 1) {
    auto y = transpose(ctx, results[0], {2, 0, 1, 3});
    auto yh = transpose(ctx, results[1], {1, 0, 2});
    auto yc = transpose(ctx, results[2], {1, 0, 2});
    if (failed(y) || failed(yh) || failed(yc))
      return failure();
    results = {*y, *yh, *yc};
  }
  return ctx.setOutputs(results);
}

void mlg::onnx_import::registerRecurrentOps(OpRegistry &r) {
  r.add("LSTM", importLSTM, 7);
}
