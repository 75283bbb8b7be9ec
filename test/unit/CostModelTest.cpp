//===- CostModelTest.cpp - convolution FLOPs against a direct count -------===//
//
// A convolution's FLOPs (CostOpInterface) against a count of the
// multiply-adds a direct convolution performs: every window position a
// strided, dilated kernel takes over the padded input, every tap, every
// input channel of its group; for random shapes, strides, dilations,
// paddings and groups in 1, 2 and 3 dimensions, and for the two gradients
// of the same convolution (the same products, transposed).

#include "mlg/Dialect/MLG/MLGDialect.h"
#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Passes/Analysis/CostModel.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <random>

using namespace mlir;

namespace {

TEST(CostModel, ConvolutionFlopsCountEveryMultiplyAdd) {
  MLIRContext ctx;
  ctx.loadDialect<mlg::MLGDialect>();
  OpBuilder b(&ctx);
  Location loc = b.getUnknownLoc();
  std::mt19937 rng(5);
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  for (int trial = 0; trial < 60; ++trial) {
    int rank = pick(1, 3), group = pick(1, 3);
    int64_t n = pick(1, 3), c = group * pick(1, 3), k = group * pick(1, 3);
    SmallVector<int64_t> in = {n, c}, w = {k, c / group}, strides, pads(2 * rank),
                         dilations;
    for (int d = 0; d < rank; ++d) {
      in.push_back(pick(4, 9));
      w.push_back(pick(1, 3));
      strides.push_back(pick(1, 3));
      dilations.push_back(pick(1, 2));
      pads[d] = pick(0, 2);
      pads[rank + d] = pick(0, 2);
    }
    // The direct count: window positions along each axis, by stepping.
    double positions = 1;
    for (int d = 0; d < rank; ++d) {
      int64_t span = (w[2 + d] - 1) * dilations[d] + 1, count = 0;
      for (int64_t start = -pads[d];
           start + span <= in[2 + d] + pads[rank + d]; start += strides[d])
        ++count;
      positions *= double(count);
    }
    if (positions == 0)
      continue;
    double taps = double(c / group);
    for (int d = 0; d < rank; ++d)
      taps *= double(w[2 + d]);
    double expected = 2 * double(n) * double(k) * positions * taps;

    auto f32 = b.getF32Type();
    auto x = mlg::ConstantOp::create(
        b, loc, DenseElementsAttr::get(RankedTensorType::get(in, f32),
                                       b.getF32FloatAttr(0)));
    auto wt = mlg::ConstantOp::create(
        b, loc, DenseElementsAttr::get(RankedTensorType::get(w, f32),
                                       b.getF32FloatAttr(0)));
    auto conv = mlg::ConvOp::create(b, loc, x, wt, Value(),
                                    b.getDenseI64ArrayAttr(strides),
                                    b.getDenseI64ArrayAttr(pads),
                                    b.getDenseI64ArrayAttr(dilations),
                                    b.getI64IntegerAttr(group));
    std::string shape;
    llvm::raw_string_ostream(shape) << conv.getOutput().getType();
    SCOPED_TRACE(testing::Message() << "trial " << trial << ": " << shape);
    EXPECT_EQ(mlg::estimateCost(conv).flops, expected);
    EXPECT_TRUE(mlg::estimateCost(conv).matrix);
    auto dx = mlg::ConvBackwardDataOp::create(
        b, loc, x.getType(), conv.getOutput(), wt, conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr());
    auto dw = mlg::ConvBackwardFilterOp::create(
        b, loc, wt.getType(), conv.getOutput(), x, conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr());
    EXPECT_EQ(mlg::estimateCost(dx).flops, expected);
    EXPECT_EQ(mlg::estimateCost(dw).flops, expected);
    dw->erase();
    dx->erase();
    conv->erase();
    wt->erase();
    x->erase();
  }
}

} // namespace
