//===- BuildTrainingStep.cpp - the training step from @forward ------------===//
//
// Implements -mlg-build-training-step: reverse-mode differentiation over the
// schedule, as Echo does inside MXNet's graph compiler. The forward function
//
//   func.func @forward(%x) -> (%logits) {
//     %w = ml_program.global_load @fc.weight
//     %y = mlg.gemm %x, %w {trans_b = true}
//     return %y
//   }
//
// becomes
//
//   func.func @train_step(%x, %labels) -> (%loss) {
//     %w = ml_program.global_load @fc.weight
//     %y = mlg.gemm %x, %w {trans_b = true}
//     %loss = mlg.softmax_cross_entropy %y, %labels
//     %dy = mlg.softmax_cross_entropy_backward %one, %y, %labels
//     %dx = mlg.matmul %dy, %w ...            (dead: DNE removes it)
//     %dw = mlg.gemm %dy, %x {trans_a = true}
//     mlg.sgd_update @fc.weight, %dw {lr = ...}
//     return %loss
//   }
//
// The backward is appended after the loss, in reverse order of the forward
// ops; each parameter's update is placed as soon as its gradient is complete
// and no op reads the parameter any more (so gradients die early, and the
// in-place update never races a read).
//
//===----------------------------------------------------------------------===//

#include "mlg/Passes/Passes.h"
#include "mlg/Passes/Transforms/UnrollLstm.h"

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "mlg-build-training-step"

namespace mlg {
#define GEN_PASS_DEF_BUILDTRAININGSTEP
#include "mlg/Passes/Passes.h.inc"
} // namespace mlg

using namespace mlir;
using namespace mlg;

/// The ops that make `output` from rows of a matrix (the product first,
/// then its bias add, if any), or none, with `why` set, where a loss over
/// blocks of rows cannot cut it.
static SmallVector<Operation *> rowProduct(Value output, std::string &why) {
  Operation *def = output.getDefiningOp();
  SmallVector<Operation *> chain; // the product first
  if (def && isa<AddOp>(def)) {
    for (Value v : def->getOperands())
      if (Operation *mm = v.getDefiningOp(); mm && isa<MatMulOp>(mm))
        chain = {mm, def};
  } else if (def && isa<MatMulOp, GemmOp>(def)) {
    chain = {def};
  }
  if (chain.empty()) {
    why = "the output must come from a MatMul or Gemm, possibly plus a bias";
    return {};
  }
  Operation *product = chain.front();
  Value a = product->getOperand(0), w = product->getOperand(1);
  if (auto gemm = dyn_cast<GemmOp>(product)) {
    auto c = gemm.getC();
    if (gemm.getTransA() ||
        (c && cast<ShapedType>(c.getType()).getRank() > 1)) {
      why = "a Gemm with a transposed A or a full C cannot be cut into rows";
      return {};
    }
  }
  ArrayRef<int64_t> outShape = shapeOf(output), aShape = shapeOf(a);
  if (shapeOf(w).size() != 2 || aShape.size() < 2 ||
      aShape.drop_back() != outShape.drop_back() ||
      product->getResult(0).getType() != output.getType()) {
    why = "the product must multiply rows by a matrix";
    return {};
  }
  if (chain.size() == 2) {
    Value bias = chain[1]->getOperand(0) == product->getResult(0)
                     ? chain[1]->getOperand(1)
                     : chain[1]->getOperand(0);
    if (shapeOf(bias).size() > 1) {
      why = "the bias must be one value per class";
      return {};
    }
  }
  return chain;
}

/// loss-chunks=-1: 8 blocks (or the most up to 8 that divide the rows)
/// where the output is a product of rows whose logits take 64 MiB or more,
/// else the whole loss.
static int64_t automaticLossChunks(Value output) {
  std::string why;
  if (rowProduct(output, why).empty())
    return 1;
  auto type = cast<RankedTensorType>(output.getType());
  int64_t bytes = type.getNumElements() *
                  int64_t(type.getElementTypeBitWidth() / 8);
  if (bytes < (int64_t(64) << 20))
    return 1;
  int64_t rows = type.getNumElements() / type.getShape().back();
  for (int64_t chunks = 8; chunks > 1; --chunks)
    if (rows % chunks == 0)
      return chunks;
  return 1;
}

/// Softmax cross-entropy over `output`'s rows in `chunks` blocks, where
/// `output` is a product (mlg.matmul by a matrix, possibly plus a bias
/// mlg.add, or mlg.gemm without a full C): the product's left operand and
/// the labels are cut into blocks of rows (reshape and mlg.unstack), each
/// block gets its own product and loss, and the loss is their mean (the
/// blocks have equal rows, so it is the whole mean up to rounding). No
/// block's logits need outlive its loss then (differentiateBlocksEarly).
/// Appends each block's loss op to `losses`.
static FailureOr<Value>
chunkedCrossEntropy(OpBuilder &b, Location loc, Value output, Value labels,
                    int64_t chunks, SmallVectorImpl<Operation *> &losses) {
  auto fail = [&](const Twine &why) -> FailureOr<Value> {
    return emitError(loc, "loss-chunks=") << chunks << ": " << why;
  };
  std::string why;
  SmallVector<Operation *> chain = rowProduct(output, why);
  if (chain.empty())
    return fail(why);
  Operation *product = chain.front();
  Value a = product->getOperand(0);
  ArrayRef<int64_t> outShape = shapeOf(output), aShape = shapeOf(a);
  int64_t rows = 1;
  for (int64_t d : outShape.drop_back())
    rows *= d;
  int64_t classes = outShape.back(), depth = aShape.back();
  if (rows % chunks != 0)
    return fail("must divide the output's " + Twine(rows) + " rows");
  int64_t per = rows / chunks;
  Type elt = elementTypeOf(output);
  auto blocks = [&](Value v, ArrayRef<int64_t> piece) {
    SmallVector<int64_t> shape{chunks};
    shape.append(piece.begin(), piece.end());
    Value r = reshapeTo(b, loc, v, shape);
    SmallVector<Type> types(
        chunks, RankedTensorType::get(piece, elementTypeOf(v)));
    return UnstackOp::create(b, loc, types, r).getResults();
  };
  auto aBlocks = blocks(a, {per, depth});
  auto labelBlocks = blocks(labels, {per});
  auto blockType = RankedTensorType::get({per, classes}, elt);
  auto scalar = RankedTensorType::get({}, elt);
  Value sum;
  for (int64_t i = 0; i < chunks; ++i) {
    IRMapping map;
    map.map(a, aBlocks[i]);
    Value logits;
    for (Operation *op : chain) {
      Operation *c = b.clone(*op, map);
      c->getResult(0).setType(blockType);
      logits = c->getResult(0);
    }
    Value l = SoftmaxCrossEntropyOp::create(b, loc, scalar, logits,
                                            labelBlocks[i]);
    losses.push_back(l.getDefiningOp());
    sum = sum ? AddOp::create(b, loc, scalar, sum, l).getResult() : l;
  }
  Value scale = scalarConstant(b, loc, elt, 1.0 / double(chunks));
  return MulOp::create(b, loc, scalar, sum, scale).getResult();
}

/// The ops from `op` (excluded) to `end` (excluded) that `op` reads,
/// transitively, in `order`; fails if there are more than `limit` or one
/// has effects.
static LogicalResult operandsAfter(Operation *op, Operation *end,
                                   llvm::SetVector<Operation *> &order,
                                   size_t limit) {
  for (Value v : op->getOperands()) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != end->getBlock() ||
        def->isBeforeInBlock(end) || def == end || order.contains(def))
      continue;
    if (!isMemoryEffectFree(def) || order.size() >= limit)
      return failure();
    if (failed(operandsAfter(def, end, order, limit)))
      return failure();
    order.insert(def);
  }
  return success();
}

/// A loss over blocks of rows differentiates each block right after its
/// loss instead of after the whole forward: the cross-entropy gradient (in
/// place over the block's logits), the ops that read it (the product's and
/// the bias's gradients, with their views) and the scalars they need move
/// there, and each parameter's block gradients are summed in block order as
/// they come. No block's logits then outlive their block: the backward
/// keeps each block's gradient of the product's input (a block of rows of
/// it) instead of every block's logits, and a budget need not recompute
/// them (for the LSTM language model, 2.4 GiB of logits at sequence 1000).
static void differentiateBlocksEarly(ArrayRef<Operation *> losses) {
  DenseMap<Value, int64_t> blockOf; // each block gradient's block
  SmallVector<Value> blockGrads;    // the same, in program order
  for (auto [block, loss] : llvm::enumerate(losses)) {
    Value logits = loss->getOperand(0);
    SoftmaxCrossEntropyBackwardOp grad;
    for (Operation *user : logits.getUsers())
      if (auto g = dyn_cast<SoftmaxCrossEntropyBackwardOp>(user);
          g && g.getLogits() == logits && loss->isBeforeInBlock(g))
        grad = g;
    if (!grad)
      continue;
    // The gradient, its readers and their views.
    SmallVector<Operation *> group{grad};
    SmallVector<Value> ends;
    for (Operation *user : grad->getUsers()) {
      if (!isMemoryEffectFree(user) || user->getNumResults() != 1 ||
          user->getBlock() != loss->getBlock())
        return;
      group.push_back(user);
      Value end = user->getResult(0);
      if (end.hasOneUse() && isa<ReshapeOp>(*end.user_begin())) {
        group.push_back(*end.user_begin());
        end = end.user_begin()->getResult(0);
      }
      ends.push_back(end);
    }
    llvm::SetVector<Operation *> moved;
    for (Operation *op : group)
      if (failed(operandsAfter(op, loss, moved, 16)))
        return;
    for (Operation *op : group)
      moved.insert(op);
    SmallVector<Operation *> order = moved.takeVector();
    llvm::sort(order, [](Operation *x, Operation *y) {
      return x->isBeforeInBlock(y);
    });
    Operation *at = loss;
    for (Operation *op : order) {
      op->moveAfter(at);
      at = op;
    }
    for (Value end : ends) {
      blockOf[end] = int64_t(block);
      blockGrads.push_back(end);
    }
  }
  // Each sum over block gradients (a tree of adds whose leaves are one
  // gradient of each of two or more blocks) becomes a running sum in block
  // order, each add right after its block's gradient.
  DenseSet<Operation *> done;
  for (Value leaf : blockGrads) {
    if (!leaf.hasOneUse() || !isa<AddOp>(*leaf.user_begin()))
      continue;
    Operation *root = *leaf.user_begin();
    while (root->getResult(0).hasOneUse() &&
           isa<AddOp>(*root->getResult(0).user_begin()))
      root = *root->getResult(0).user_begin();
    if (!done.insert(root).second)
      continue;
    SmallVector<Operation *> adds;
    SmallVector<std::pair<int64_t, Value>> leaves;
    SmallVector<Operation *> work{root};
    bool ok = true;
    while (!work.empty() && ok) {
      Operation *add = work.pop_back_val();
      adds.push_back(add);
      for (Value v : add->getOperands()) {
        Operation *def = v.getDefiningOp();
        if (def && isa<AddOp>(def) && v.hasOneUse() &&
            v.getType() == root->getResult(0).getType())
          work.push_back(def);
        else if (auto it = blockOf.find(v); it != blockOf.end() &&
                                            v.getType() ==
                                                root->getResult(0).getType())
          leaves.push_back({it->second, v});
        else
          ok = false;
      }
    }
    llvm::sort(leaves, llvm::less_first());
    for (size_t i = 1; ok && i < leaves.size(); ++i)
      ok = leaves[i].first != leaves[i - 1].first;
    if (!ok || leaves.size() < 2)
      continue;
    Value sum = leaves.front().second;
    for (auto &[b, v] : llvm::drop_begin(leaves)) {
      OpBuilder at(v.getContext());
      at.setInsertionPointAfter(v.getDefiningOp());
      sum = AddOp::create(at, root->getLoc(), v.getType(), sum, v);
    }
    root->getResult(0).replaceAllUsesWith(sum);
    for (Operation *add : adds) // the root first, then its operands
      add->erase();
    // The other leaves now reach the new sum's end: already done.
    done.insert(sum.getDefiningOp());
  }
}

namespace {

enum class Optimizer { None, Sgd, Momentum, Adam };

struct BuildTrainingStepPass
    : mlg::impl::BuildTrainingStepBase<BuildTrainingStepPass> {
  using BuildTrainingStepBase::BuildTrainingStepBase;

  void runOnOperation() override;

private:
  bool isFrozen(StringRef name) const;
  LogicalResult build(func::FuncOp func);
  /// A new mutable global beside `like`, zero-initialized state.
  FlatSymbolRefAttr stateGlobal(OpBuilder &b, ml_program::GlobalOp like,
                                StringRef suffix, Type type);
  LogicalResult emitUpdate(OpBuilder &b, Location loc,
                           ml_program::GlobalOp param, Value grad);

  ModuleOp module;
  Optimizer opt = Optimizer::None;
  FlatSymbolRefAttr stepCounter;
  SymbolTable *symbols = nullptr;
  DenseMap<Operation *, Operation *> lastStateOf;
};

} // namespace

/// Whether `name` is `pattern`, or starts with it less a trailing '*'.
static bool matchesFrozen(StringRef pattern, StringRef name) {
  return pattern.ends_with("*") ? name.starts_with(pattern.drop_back())
                                : name == pattern;
}

bool BuildTrainingStepPass::isFrozen(StringRef name) const {
  return llvm::any_of(frozen, [&](const std::string &pattern) {
    return matchesFrozen(pattern, name);
  });
}

FlatSymbolRefAttr BuildTrainingStepPass::stateGlobal(OpBuilder &b,
                                                     ml_program::GlobalOp like,
                                                     StringRef suffix,
                                                     Type type) {
  OpBuilder::InsertionGuard guard(b);
  // After the parameter and the state made for it before, in order.
  Operation *&after = lastStateOf[like];
  b.setInsertionPointAfter(after ? after : like.getOperation());
  std::string name = (like.getSymName() + "." + suffix).str();
  auto global = ml_program::GlobalOp::create(
      b, like.getLoc(), name, type, /*is_mutable=*/true,
      ml_program::ExternAttr::get(b.getContext(), type),
      /*sym_visibility=*/b.getStringAttr("private"));
  global->setAttr("mlg.role", b.getStringAttr("state"));
  global->setAttr("mlg.init", b.getStringAttr("zeros"));
  symbols->insert(global);
  after = global;
  return FlatSymbolRefAttr::get(global.getSymNameAttr());
}

LogicalResult BuildTrainingStepPass::emitUpdate(OpBuilder &b, Location loc,
                                                ml_program::GlobalOp param,
                                                Value grad) {
  auto ref = FlatSymbolRefAttr::get(param.getSymNameAttr());
  auto f64 = [&](double v) { return b.getF64FloatAttr(v); };
  switch (opt) {
  case Optimizer::None:
    return success();
  case Optimizer::Sgd:
    SgdUpdateOp::create(b, loc, ref, grad, f64(lr), f64(weightDecay));
    return success();
  case Optimizer::Momentum: {
    FlatSymbolRefAttr velocity =
        stateGlobal(b, param, "velocity", param.getType());
    MomentumUpdateOp::create(b, loc, ref, velocity, grad, f64(lr),
                             f64(momentum), f64(weightDecay),
                             b.getBoolAttr(nesterov));
    return success();
  }
  case Optimizer::Adam: {
    FlatSymbolRefAttr m = stateGlobal(b, param, "adam_m", param.getType());
    FlatSymbolRefAttr v = stateGlobal(b, param, "adam_v", param.getType());
    AdamUpdateOp::create(b, loc, ref, m, v, stepCounter, grad, f64(lr),
                         f64(beta1), f64(beta2), f64(epsilon),
                         f64(weightDecay));
    return success();
  }
  }
  return success();
}

LogicalResult BuildTrainingStepPass::build(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  if (lossChunks == 0 || lossChunks < -1)
    return emitError(func.getLoc(), "loss-chunks=")
           << int64_t(lossChunks) << ": must be 1 or more, or -1 (automatic)";
  if (failed(unrollLstmForTraining(func, projectionSteps)))
    return failure();
  // The losses of a loss over blocks of rows, in block order.
  SmallVector<Operation *> blockLosses;
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  Location loc = ret.getLoc();

  // The loss, after the forward ops.
  if (ret.getNumOperands() != 1)
    return emitError(func.getLoc(), "the training step needs a forward function with "
                          "one output, @")
           << func.getSymName() << " has " << ret.getNumOperands();
  Value output = ret.getOperand(0);
  auto outputType = dyn_cast<RankedTensorType>(output.getType());
  if (!outputType || !isa<FloatType>(outputType.getElementType()))
    return emitError(func.getLoc(), "the forward output must be a floating-point "
                          "tensor, got ")
           << output.getType();
  OpBuilder b(ret);
  Value loss;
  std::optional<Type> labelType;
  if (this->loss == "softmax-cross-entropy") {
    if (outputType.getRank() < 1)
      return emitError(func.getLoc(), "softmax-cross-entropy needs an output with "
                            "classes on its last axis, got ")
             << outputType;
    labelType = RankedTensorType::get(outputType.getShape().drop_back(),
                                      IntegerType::get(ctx, 64));
  } else if (this->loss == "mse") {
    labelType = outputType;
  } else if (this->loss != "none") {
    return emitError(func.getLoc(), "unknown loss '")
           << this->loss << "' (softmax-cross-entropy, mse or none)";
  }
  if (labelType) {
    unsigned index = func.getNumArguments();
    if (failed(func.insertArgument(index, *labelType,
                                   b.getDictionaryAttr({b.getNamedAttr(
                                       "mlg.name", b.getStringAttr("labels"))}),
                                   loc)))
      return failure();
    Value labels = func.getArgument(index);
    if (this->loss == "mse")
      loss = MseLossOp::create(b, loc,
                               RankedTensorType::get({}, elementTypeOf(output)),
                               output, labels);
    else if (int64_t chunks = lossChunks == -1 ? automaticLossChunks(output)
                                               : int64_t(lossChunks);
             chunks > 1) {
      FailureOr<Value> chunked =
          chunkedCrossEntropy(b, loc, output, labels, chunks, blockLosses);
      if (failed(chunked))
        return failure();
      loss = *chunked;
    } else
      loss = SoftmaxCrossEntropyOp::create(
          b, loc, RankedTensorType::get({}, elementTypeOf(output)), output,
          labels);
  } else {
    if (outputType.getNumElements() != 1)
      return emitError(func.getLoc(), "loss=none needs a forward output of one "
                            "element, got ")
             << outputType;
    loss = reshapeTo(b, loc, output, {});
  }

  // Forward ops (the loss included), in schedule order.
  SmallVector<Operation *> forward;
  for (Operation &op : body.without_terminator())
    forward.push_back(&op);

  // Trainable parameters: loads of mutable, non-state, unfrozen float globals.
  DenseMap<Value, ml_program::GlobalOp> paramOf;
  llvm::SetVector<ml_program::GlobalOp> params;
  DenseSet<Value> requiresGrad;
  for (Operation *op : forward) {
    auto load = dyn_cast<ml_program::GlobalLoadOp>(op);
    if (!load)
      continue;
    auto global = symbols->lookup<ml_program::GlobalOp>(
        load.getGlobal().getLeafReference());
    if (!global || !global.getIsMutable() ||
        !isDifferentiableType(load.getType()))
      continue;
    auto role = global->getAttrOfType<StringAttr>("mlg.role");
    if ((role && role.getValue() == "state") || isFrozen(global.getSymName()))
      continue;
    paramOf[load.getResult()] = global;
    params.insert(global);
    requiresGrad.insert(load.getResult());
  }
  SmallVector<std::pair<BlockArgument, StringAttr>> inputGrads;
  if (inputGradients)
    for (BlockArgument arg : func.getArguments())
      if (isDifferentiableType(arg.getType())) {
        requiresGrad.insert(arg);
        auto name =
            func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mlg.name");
        inputGrads.push_back({arg, name});
      }
  // What depends on them.
  for (Operation *op : forward)
    if (llvm::any_of(op->getOperands(),
                     [&](Value v) { return requiresGrad.contains(v); }))
      for (Value r : op->getResults())
        if (isDifferentiableType(r.getType()))
          requiresGrad.insert(r);

  // Batch norm in training form writes its running statistics back.
  for (Operation *op : forward) {
    auto bn = dyn_cast<BatchNormOp>(op);
    if (!bn || !bn.getTraining())
      continue;
    OpBuilder sb(bn->getContext());
    sb.setInsertionPointAfter(bn);
    for (auto [operand, result] :
         {std::pair{bn.getMean(), bn.getRunningMean()},
          std::pair{bn.getVar(), bn.getRunningVar()}}) {
      auto load = operand.getDefiningOp<ml_program::GlobalLoadOp>();
      if (!load)
        continue;
      auto global = symbols->lookup<ml_program::GlobalOp>(
          load.getGlobal().getLeafReference());
      if (global && global.getIsMutable())
        ml_program::GlobalStoreOp::create(sb, bn.getLoc(), load.getGlobal(),
                                          result);
    }
  }

  // The step counter Adam's bias correction reads.
  if (opt == Optimizer::Adam && !params.empty()) {
    OpBuilder gb(module.getBodyRegion());
    gb.setInsertionPointToStart(module.getBody());
    auto type = RankedTensorType::get({}, IntegerType::get(ctx, 64));
    auto counter = ml_program::GlobalOp::create(
        gb, module.getLoc(), "mlg.step", type, /*is_mutable=*/true,
        ml_program::ExternAttr::get(ctx, type), gb.getStringAttr("private"));
    counter->setAttr("mlg.role", gb.getStringAttr("state"));
    counter->setAttr("mlg.init", gb.getStringAttr("zeros"));
    symbols->insert(counter);
    stepCounter = FlatSymbolRefAttr::get(counter.getSymNameAttr());
    OpBuilder fb(&body, body.begin());
    IncrementStepOp::create(fb, func.getLoc(), stepCounter);
  }

  // How many forward ops still read each parameter load.
  DenseMap<Value, unsigned> pendingReads;
  for (auto &[value, global] : paramOf)
    pendingReads[value] = std::distance(value.use_begin(), value.use_end());

  // Reverse mode. The backward goes before the return, in reverse order.
  DenseMap<Value, Value> grads;
  auto accumulate = [&](Value v, Value g) -> LogicalResult {
    if (g.getType() != v.getType())
      return emitError(g.getLoc(), "gradient of type ")
             << g.getType() << " for a value of type " << v.getType();
    auto [it, inserted] = grads.try_emplace(v, g);
    if (!inserted)
      it->second = AddOp::create(b, g.getLoc(), it->second, g);
    return success();
  };
  grads[loss] = scalarConstant(b, loc, elementTypeOf(loss), 1.0);
  DenseSet<Operation *> forwardSet(forward.begin(), forward.end());
  // Gradients of a parameter's loads, summed when all are complete.
  DenseMap<ml_program::GlobalOp, unsigned> loadsLeft;
  DenseMap<ml_program::GlobalOp, Value> paramGrad;
  for (auto &[value, global] : paramOf)
    ++loadsLeft[global];
  SmallVector<std::pair<StringAttr, Value>> returnedGrads;

  for (Operation *op : llvm::reverse(forward)) {
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      Value g = requiresGrad.contains(r) ? grads.lookup(r) : Value();
      resultGrads.push_back(g);
      any |= bool(g);
    }
    bool needs = llvm::any_of(
        op->getOperands(), [&](Value v) { return requiresGrad.contains(v); });
    if (any && needs) {
      auto gradOp = dyn_cast<GradientOpInterface>(op);
      if (!gradOp)
        return op->emitError("mlg cannot differentiate '")
               << op->getName()
               << "': the op defines no gradient (freeze the parameters "
                  "before it, or stop the gradient flowing through it)";
      // Build, then check the contract: the new ops read only gradients,
      // their own results, constants and the declared forward values.
      Operation *before = b.getInsertionPoint() == body.begin()
                              ? nullptr
                              : &*std::prev(b.getInsertionPoint());
      SmallVector<Value> operandGrads;
      if (failed(gradOp.buildGradient(b, resultGrads, operandGrads)))
        return failure();
      SmallVector<Value> readList;
      gradOp.getBackwardReads(readList);
      // A reshape is a view: reading what it views reads the same buffer
      // (folding a gradient's reshape of a reshape reads the source).
      DenseSet<Value> reads;
      for (Value v : readList)
        for (; v && reads.insert(v).second;) {
          auto view = v.getDefiningOp<ReshapeOp>();
          v = view ? view->getOperand(0) : Value();
        }
      for (Operation *it = before ? before->getNextNode() : &body.front();
           it && it != &*b.getInsertionPoint(); it = it->getNextNode()) {
        ++numBackwardOps;
        for (Value v : it->getOperands()) {
          Operation *def = v.getDefiningOp();
          bool forwardValue =
              isa<BlockArgument>(v) || (def && forwardSet.contains(def));
          if (forwardValue && !reads.contains(v) &&
              !llvm::is_contained(resultGrads, v) &&
              !(def && def->hasTrait<OpTrait::ConstantLike>()))
            return op->emitError("the gradient of '")
                   << op->getName()
                   << "' reads a forward value it does not declare in "
                      "getBackwardReads";
        }
      }
      if (operandGrads.size() != op->getNumOperands())
        return op->emitError("gradient returned ")
               << operandGrads.size() << " operand gradients for "
               << op->getNumOperands() << " operands";
      for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads))
        if (g && requiresGrad.contains(operand))
          if (failed(accumulate(operand, g)))
            return failure();
    }
    // Parameters this op was the last reader of are complete now.
    for (Value operand : op->getOperands()) {
      auto it = pendingReads.find(operand);
      if (it == pendingReads.end() || --it->second != 0)
        continue;
      ml_program::GlobalOp global = paramOf.lookup(operand);
      Value g = grads.lookup(operand);
      if (g) {
        Value &sum = paramGrad[global];
        sum = sum ? AddOp::create(b, g.getLoc(), sum, g).getResult() : g;
      }
      if (--loadsLeft[global] != 0 || !paramGrad.lookup(global))
        continue;
      ++numParameters;
      Value total = paramGrad.lookup(global);
      if (returnGradients)
        returnedGrads.push_back(
            {b.getStringAttr("grad:" + global.getSymName()), total});
      if (failed(emitUpdate(b, op->getLoc(), global, total)))
        return failure();
    }
  }

  // The outputs: the loss, then the requested gradients.
  SmallVector<Value> results{loss};
  SmallVector<Attribute> names{b.getDictionaryAttr(
      {b.getNamedAttr("mlg.name", b.getStringAttr("loss"))})};
  auto addResult = [&](StringAttr name, Value v) {
    results.push_back(v);
    names.push_back(b.getDictionaryAttr({b.getNamedAttr("mlg.name", name)}));
  };
  for (auto &[name, g] : returnedGrads)
    addResult(name, g);
  for (auto &[arg, name] : inputGrads) {
    Value g = grads.lookup(arg);
    if (!g)
      return emitError(func.getLoc(), "input '")
             << (name ? name.getValue() : "") << "' gets no gradient";
    addResult(b.getStringAttr("grad:" + (name ? name.getValue() : "input")), g);
  }
  ret->setOperands(results);
  // A chunked loss leaves the whole output's product unread (its bias add
  // first, then the product).
  if (!blockLosses.empty()) {
    std::string why;
    for (Operation *op : llvm::reverse(rowProduct(output, why)))
      if (op->use_empty())
        op->erase();
  }
  func.setFunctionType(FunctionType::get(ctx, func.getArgumentTypes(),
                                         ValueRange(results).getTypes()));
  func.setAllResultAttrs(names);
  func.setSymName("train_step");
  // Last: it replaces values `results` holds.
  differentiateBlocksEarly(blockLosses);
  return success();
}

void BuildTrainingStepPass::runOnOperation() {
  module = getOperation();
  if (optimizer == "none")
    opt = Optimizer::None;
  else if (optimizer == "sgd")
    opt = Optimizer::Sgd;
  else if (optimizer == "momentum")
    opt = Optimizer::Momentum;
  else if (optimizer == "adam")
    opt = Optimizer::Adam;
  else {
    emitError(module.getLoc(), "unknown optimizer '")
        << optimizer << "' (sgd, momentum, adam or none)";
    return signalPassFailure();
  }
  if (!(lr >= 0) || !(weightDecay >= 0) || !(momentum >= 0 && momentum < 1) ||
      !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) ||
      !(epsilon >= 0)) {
    emitError(module.getLoc(),
              "optimizer settings out of range: lr and weight-decay "
              "must be >= 0, momentum, beta1 and beta2 in [0, 1)");
    return signalPassFailure();
  }
  SymbolTable table(module);
  symbols = &table;
  auto func = table.lookup<func::FuncOp>(entry);
  if (!func || func.isExternal()) {
    emitError(module.getLoc(), "no function @") << entry << " to train";
    return signalPassFailure();
  }
  if (table.lookup("train_step")) {
    emitError(module.getLoc(), "the module already has a @train_step");
    return signalPassFailure();
  }
  // A frozen name that matches no parameter is a typo that would silently
  // train what it meant to freeze.
  for (const std::string &pattern : frozen) {
    bool matches = llvm::any_of(
        module.getOps<ml_program::GlobalOp>(), [&](ml_program::GlobalOp g) {
          return matchesFrozen(pattern, g.getSymName());
        });
    if (!matches) {
      emitError(module.getLoc(), "frozen: '")
          << pattern << "' names no parameter of the model";
      return signalPassFailure();
    }
  }
  if (!func.getBody().hasOneBlock()) {
    emitError(func.getLoc(), "the forward function must have one block");
    return signalPassFailure();
  }
  if (failed(build(func)))
    return signalPassFailure();
  // The symbol table still knows the function by its old name.
  table.remove(func);
  table.insert(func);
}
