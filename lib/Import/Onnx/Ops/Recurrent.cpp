//===- Recurrent.cpp - importer of LSTM and GRU ---------------------------===//
//
// LSTM and GRU with the default activations, in sequence-major layout:
// `layout = 1` (batch-major) is transposed on the way in and out. Sequence
// lengths are accepted only when they are all the full length, since mlg's
// shapes are static. An LSTM becomes one mlg.lstm (the training pipeline
// unrolls it into cells); a GRU is unrolled here into products and
// elementwise ops, whose gradients the training step already knows.
//
//===----------------------------------------------------------------------===//

#include "../NodeContext.h"
#include "../OpRegistry.h"

#include "mlg/Dialect/MLG/MLGOps.h"

#include <cmath>

using namespace mlir;
using namespace mlg;
using namespace mlg::onnx_import;

static FailureOr<Value> transpose(NodeContext &ctx, Value v,
                                  ArrayRef<int64_t> perm) {
  return ctx.create1<TransposeOp>({v}, {ctx.i64ArrayAttr("perm", perm)});
}

/// `v` ([batch, ..., ...] where `layout` is 1) in sequence-major order.
static FailureOr<Value> sequenceMajor(NodeContext &ctx, Value v,
                                      int64_t layout) {
  return layout == 1 ? transpose(ctx, v, {1, 0, 2}) : FailureOr<Value>(v);
}

/// Checks the attributes LSTM and GRU share: the direction, the activations
/// (`defaults`, repeated per direction) and the layout. Returns the
/// direction and layout.
static FailureOr<std::pair<RnnDirection, int64_t>>
checkRecurrent(NodeContext &ctx, ArrayRef<const char *> defaults,
               StringRef name) {
  auto direction = ctx.getString("direction", std::string("forward"));
  auto layout = ctx.getInt("layout", 0);
  auto activations = ctx.getStrings("activations");
  if (failed(direction) || failed(layout) || failed(activations))
    return failure();
  std::optional<RnnDirection> dir = symbolizeRnnDirection(*direction);
  if (!dir)
    return ctx.emitError() << "direction '" << *direction
                           << "' is not supported";
  for (size_t i = 0; i < activations->size(); ++i)
    if ((*activations)[i] != defaults[i % defaults.size()]) {
      InFlightDiagnostic diag = ctx.emitError();
      diag << "activation '" << (*activations)[i]
           << "' is not supported; mlg's " << name << " uses ";
      llvm::interleaveComma(defaults, diag);
      return diag;
    }
  if (ctx.hasAttr("activation_alpha") || ctx.hasAttr("activation_beta"))
    return ctx.emitError() << "activation parameters are not supported";
  if (*layout != 0 && *layout != 1)
    return ctx.emitError() << "layout must be 0 or 1";
  return std::make_pair(*dir, *layout);
}

/// `v`'s pieces along its leading dimension (one piece for a leading 1).
static FailureOr<SmallVector<Value>> unstack(NodeContext &ctx, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<Type> types(type.getDimSize(0),
                          type.clone(type.getShape().drop_front()));
  return ctx.create<UnstackOp>({v}, {}, types, types.size());
}

/// Accepts sequence lengths (input `index`, if given) only where every one
/// is the full `steps`.
static LogicalResult checkSequenceLengths(NodeContext &ctx, unsigned index,
                                          int64_t steps) {
  if (!ctx.hasInput(index))
    return success();
  auto lens = ctx.constantInts(index, "sequence lengths");
  if (failed(lens))
    return failure();
  for (int64_t len : *lens)
    if (len != steps)
      return ctx.emitError() << "sequence length " << len
                             << " differs from the sequence dimension " << steps
                             << "; variable lengths are not supported";
  return success();
}

static LogicalResult importLSTM(NodeContext &ctx) {
  if (failed(ctx.checkArity(3, 8)))
    return failure();
  auto checked = checkRecurrent(ctx, {"Sigmoid", "Tanh", "Tanh"}, "LSTM");
  auto inputForget = ctx.getInt("input_forget", 0);
  if (failed(checked) || failed(inputForget))
    return failure();
  auto [dir, layout] = *checked;
  RankedTensorType r = ctx.inputType(2);
  int64_t hidden = r.getRank() == 3 ? r.getDimSize(2) : 0;
  auto h = ctx.getInt("hidden_size", hidden);
  if (failed(h))
    return failure();

  auto sequence = sequenceMajor(ctx, ctx.input(0), layout);
  if (failed(sequence))
    return failure();
  Value x = *sequence;
  auto xType = cast<RankedTensorType>(x.getType());
  if (xType.getRank() != 3)
    return ctx.emitError() << "X must have rank 3, got " << xType;
  if (failed(checkSequenceLengths(ctx, 4, xType.getDimSize(0))))
    return failure();
  SmallVector<Value> operands = {x, ctx.input(1), ctx.input(2)};
  SmallVector<int32_t> segments = {1, 1, 1};
  for (unsigned i : {3u, 5u, 6u, 7u}) {
    Value v = ctx.optionalInput(i);
    if (v && (i == 5 || i == 6)) {
      auto t = sequenceMajor(ctx, v, layout);
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
      ctx.attr("direction", RnnDirectionAttr::get(ctx.getContext(), dir)),
      ctx.boolAttr("input_forget", *inputForget != 0),
      ctx.attr("operandSegmentSizes",
               ctx.builder().getDenseI32ArrayAttr(segments))};
  if (ctx.hasAttr("clip")) {
    auto clip = ctx.getFloat("clip");
    if (failed(clip))
      return failure();
    attrs.push_back(ctx.f64Attr("clip", *clip));
  }
  auto out = ctx.create<LSTMOp>(operands, attrs, {}, 3);
  if (failed(out))
    return failure();
  SmallVector<Value> results = *out;
  if (layout == 1) {
    auto y = transpose(ctx, results[0], {2, 0, 1, 3});
    auto yh = transpose(ctx, results[1], {1, 0, 2});
    auto yc = transpose(ctx, results[2], {1, 0, 2});
    if (failed(y) || failed(yh) || failed(yc))
      return failure();
    results = {*y, *yh, *yc};
  }
  return ctx.setOutputs(results);
}

static LogicalResult importGRU(NodeContext &ctx) {
  if (failed(ctx.checkArity(3, 6)))
    return failure();
  auto checked = checkRecurrent(ctx, {"Sigmoid", "Tanh"}, "GRU");
  auto linearBeforeReset = ctx.getInt("linear_before_reset", 0);
  if (failed(checked) || failed(linearBeforeReset))
    return failure();
  auto [dir, layout] = *checked;
  if (ctx.hasAttr("clip"))
    return ctx.emitError() << "clip is not supported";
  auto sequence = sequenceMajor(ctx, ctx.input(0), layout);
  if (failed(sequence))
    return failure();
  Value x = *sequence;
  auto xType = cast<RankedTensorType>(x.getType());
  RankedTensorType wType = ctx.inputType(1), rType = ctx.inputType(2);
  int64_t dirs = dir == RnnDirection::bidirectional ? 2 : 1;
  if (xType.getRank() != 3 || wType.getRank() != 3 || rType.getRank() != 3 ||
      !xType.hasStaticShape() || !wType.hasStaticShape() ||
      !rType.hasStaticShape())
    return ctx.emitError() << "X, W and R must have static shapes of rank 3";
  int64_t steps = xType.getDimSize(0), batch = xType.getDimSize(1),
          inputSize = xType.getDimSize(2), hidden = rType.getDimSize(2);
  if (steps < 1 || batch < 1 || hidden < 1)
    return ctx.emitError() << "X " << xType << " and R " << rType
                           << " leave no time step, batch row or hidden unit";
  auto h = ctx.getInt("hidden_size", hidden);
  if (failed(h))
    return failure();
  if (*h != hidden ||
      wType.getShape() != ArrayRef<int64_t>{dirs, 3 * hidden, inputSize} ||
      rType.getShape() != ArrayRef<int64_t>{dirs, 3 * hidden, hidden})
    return ctx.emitError() << "W " << wType << " and R " << rType
                           << " do not fit " << dirs << " direction(s), X "
                           << xType << " and hidden size " << *h;
  if (failed(checkSequenceLengths(ctx, 4, steps)))
    return failure();
  Value bias = ctx.optionalInput(3), initial = ctx.optionalInput(5);
  if (bias && cast<RankedTensorType>(bias.getType()).getShape() !=
                  ArrayRef<int64_t>{dirs, 6 * hidden})
    return ctx.emitError() << "B must have shape [" << dirs << ", "
                           << 6 * hidden << "]";
  if (initial) {
    auto t = sequenceMajor(ctx, initial, layout);
    if (failed(t))
      return failure();
    initial = *t;
  }
  if (initial && cast<RankedTensorType>(initial.getType()).getShape() !=
                     ArrayRef<int64_t>{dirs, batch, hidden})
    return ctx.emitError() << "initial_h must have shape [" << dirs << ", "
                           << batch << ", " << hidden << "]";

  Type element = xType.getElementType();
  auto tensor = [&](ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, element);
  };
  auto split = [&](Value v, int64_t axis, ArrayRef<int64_t> sizes) {
    return ctx.create<SplitOp>(
        {v}, {ctx.i64Attr("axis", axis), ctx.i64ArrayAttr("sizes", sizes)}, {},
        sizes.size());
  };
  // A * B^T (+ C).
  auto product = [&](Value a, Value b, Value c) -> FailureOr<Value> {
    SmallVector<Value> operands = {a, b};
    if (c)
      operands.push_back(c);
    return ctx.create1<GemmOp>(operands, {ctx.f64Attr("alpha", 1.0),
                                          ctx.f64Attr("beta", c ? 1.0 : 0.0),
                                          ctx.boolAttr("trans_a", false),
                                          ctx.boolAttr("trans_b", true)});
  };
  auto ws = unstack(ctx, ctx.input(1));
  auto rs = unstack(ctx, ctx.input(2));
  // The input is projected in blocks of about sqrt(T) steps, each just
  // before its first step runs, so that only one block's projections are
  // alive at a time (all T at once would hold 3 x T x N x H values).
  int64_t blockSteps = std::ceil(std::sqrt(double(steps)));
  SmallVector<int64_t> blockSizes;
  for (int64_t t = 0; t < steps; t += blockSteps)
    blockSizes.push_back(std::min(blockSteps, steps - t));
  SmallVector<Value> xBlocks = {x};
  if (blockSizes.size() > 1) {
    auto blocks = split(x, 0, blockSizes);
    if (failed(blocks))
      return failure();
    xBlocks = *blocks;
  }
  if (failed(ws) || failed(rs))
    return failure();
  SmallVector<Value> biases, initials;
  if (bias) {
    auto b = unstack(ctx, bias);
    if (failed(b))
      return failure();
    biases = *b;
  }
  if (initial) {
    auto i = unstack(ctx, initial);
    if (failed(i))
      return failure();
    initials = *i;
  } else {
    auto zero = DenseElementsAttr::get(tensor({batch, hidden}),
                                       ctx.builder().getZeroAttr(element));
    initials.assign(dirs, ctx.constant(zero));
  }

  // hs[d][t]: direction d's hidden state after time step t.
  SmallVector<SmallVector<Value>> hs(dirs, SmallVector<Value>(steps));
  for (int64_t d = 0; d < dirs; ++d) {
    Value wb, rbGates, rbCandidate;
    if (bias) {
      auto parts = split(biases[d], 0, {3 * hidden, 2 * hidden, hidden});
      if (failed(parts))
        return failure();
      wb = (*parts)[0];
      rbGates = (*parts)[1];
      rbCandidate = (*parts)[2];
    }
    auto rParts = split((*rs)[d], 0, {2 * hidden, hidden});
    if (failed(rParts))
      return failure();
    Value rGates = (*rParts)[0], rCandidate = (*rParts)[1];
    bool reverse = dir == RnnDirection::reverse || d == 1;
    Value hPrev = initials[d];
    // The current block's projected steps, from step `blockStart` on.
    SmallVector<Value> xps;
    int64_t blockStart = -1;
    for (int64_t i = 0; i < steps; ++i) {
      int64_t t = reverse ? steps - 1 - i : i;
      if (blockStart < 0 || t < blockStart ||
          t >= blockStart + int64_t(xps.size())) {
        int64_t block = t / blockSteps, size = blockSizes[block];
        auto flat = ctx.create1<ReshapeOp>({xBlocks[block]}, {},
                                           {tensor({size * batch, inputSize})});
        auto xp = failed(flat) ? flat : product(*flat, (*ws)[d], wb);
        auto shaped = failed(xp)
                          ? xp
                          : ctx.create1<ReshapeOp>(
                                {*xp}, {}, {tensor({size, batch, 3 * hidden})});
        auto pieces = failed(shaped) ? FailureOr<SmallVector<Value>>(failure())
                                     : unstack(ctx, *shaped);
        if (failed(pieces))
          return failure();
        xps = *pieces;
        blockStart = block * blockSteps;
      }
      Value xStep = xps[t - blockStart];
      auto xParts = split(xStep, 1, {2 * hidden, hidden});
      auto hGates = product(hPrev, rGates, rbGates);
      if (failed(xParts) || failed(hGates))
        return failure();
      auto pre = ctx.create1<AddOp>({(*xParts)[0], *hGates});
      auto gates = failed(pre) ? pre : ctx.create1<SigmoidOp>({*pre});
      auto zr = failed(gates) ? FailureOr<SmallVector<Value>>(failure())
                              : split(*gates, 1, {hidden, hidden});
      if (failed(zr))
        return failure();
      Value z = (*zr)[0], r = (*zr)[1];
      // linear_before_reset: r * (h R_h^T + Rb_h); else (r * h) R_h^T + Rb_h.
      FailureOr<Value> recurrent = failure();
      if (*linearBeforeReset) {
        auto hc = product(hPrev, rCandidate, rbCandidate);
        recurrent = failed(hc) ? hc : ctx.create1<MulOp>({r, *hc});
      } else {
        auto rh = ctx.create1<MulOp>({r, hPrev});
        recurrent = failed(rh) ? rh : product(*rh, rCandidate, rbCandidate);
      }
      if (failed(recurrent))
        return failure();
      auto sum = ctx.create1<AddOp>({(*xParts)[1], *recurrent});
      auto n = failed(sum) ? sum : ctx.create1<TanhOp>({*sum});
      // h = (1 - z) * n + z * h_prev = n + z * (h_prev - n).
      auto diff = failed(n) ? n : ctx.create1<SubOp>({hPrev, *n});
      auto kept = failed(diff) ? diff : ctx.create1<MulOp>({z, *diff});
      auto next = failed(kept) ? kept : ctx.create1<AddOp>({*n, *kept});
      if (failed(next))
        return failure();
      hs[d][t] = hPrev = *next;
    }
  }
  SmallVector<Value> all, last;
  for (int64_t t = 0; t < steps; ++t)
    for (int64_t d = 0; d < dirs; ++d)
      all.push_back(hs[d][t]);
  for (int64_t d = 0; d < dirs; ++d)
    last.push_back(
        hs[d][d == 1 || dir == RnnDirection::reverse ? 0 : steps - 1]);
  auto y =
      ctx.create1<StackOp>(all, {}, {tensor({steps, dirs, batch, hidden})});
  auto yh = ctx.create1<StackOp>(last, {}, {tensor({dirs, batch, hidden})});
  if (failed(y) || failed(yh))
    return failure();
  SmallVector<Value> results = {*y, *yh};
  if (layout == 1) {
    auto yt = transpose(ctx, results[0], {2, 0, 1, 3});
    auto yht = transpose(ctx, results[1], {1, 0, 2});
    if (failed(yt) || failed(yht))
      return failure();
    results = {*yt, *yht};
  }
  return ctx.setOutputs(results);
}

void mlg::onnx_import::registerRecurrentOps(OpRegistry &r) {
  r.add("LSTM", importLSTM, 7);
  r.add("GRU", importGRU, 7);
}
