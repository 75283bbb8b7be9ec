//===- MatMulGradients.cpp - gradients of gemm and matmul -----------------===//
//
// Matrix products differentiate into matrix products: for Y = A B,
// dA = dY B^T and dB = A^T dY, with Gemm's transpose flags absorbing the
// transposes and batched matmul summing over broadcast batch dimensions.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/GradientUtils.h"
#include "mlg/Dialect/MLG/MLGOps.h"

using namespace mlir;
using namespace mlg;

//===----------------------------------------------------------------------===//
// GemmOp: Y = alpha op(A) op(B) + beta C
//===----------------------------------------------------------------------===//

void GemmOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getA(), getB()});
}

LogicalResult GemmOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value dy = resultGrads[0];
  double alpha = getAlpha().convertToDouble();
  bool ta = getTransA(), tb = getTransB();
  auto gemm = [&](Value x, Value y, bool tx, bool ty) -> Value {
    return GemmOp::create(b, loc, x, y, Value(), b.getF64FloatAttr(alpha),
                          b.getF64FloatAttr(0.0), b.getBoolAttr(tx),
                          b.getBoolAttr(ty), getRecurrentAttr());
  };
  // op(A) = A:   dA = alpha dY op(B)^T;  op(A) = A^T: dA = alpha op(B) dY^T.
  Value da = ta ? gemm(getB(), dy, tb, true) : gemm(dy, getB(), false, !tb);
  // op(B) = B:   dB = alpha op(A)^T dY;  op(B) = B^T: dB = alpha dY^T op(A).
  Value db = tb ? gemm(dy, getA(), true, ta) : gemm(getA(), dy, !ta, false);
  operandGrads.assign({da, db});
  if (Value c = getC()) {
    Value dc = dy;
    double beta = getBeta().convertToDouble();
    if (beta != 1.0)
      dc = MulOp::create(b, loc, dy,
                         scalarConstant(b, loc, elementTypeOf(dy), beta));
    operandGrads.push_back(
        sumToShape(b, loc, dc, cast<ShapedType>(c.getType())));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// MatMulOp: NumPy matmul
//===----------------------------------------------------------------------===//

void MatMulOp::getBackwardReads(SmallVectorImpl<Value> &reads) {
  reads.append({getLhs(), getRhs()});
}

/// Swaps the last two dimensions.
static Value transposeLast(OpBuilder &b, Location loc, Value v) {
  int64_t rank = shapeOf(v).size();
  SmallVector<int64_t> perm;
  for (int64_t i = 0; i < rank; ++i)
    perm.push_back(i);
  std::swap(perm[rank - 1], perm[rank - 2]);
  return TransposeOp::create(b, loc, v, b.getDenseI64ArrayAttr(perm));
}

LogicalResult MatMulOp::buildGradient(OpBuilder &b, ArrayRef<Value> resultGrads,
                                      SmallVectorImpl<Value> &operandGrads) {
  Location loc = getLoc();
  Value a = getLhs(), w = getRhs(), dy = resultGrads[0];
  ArrayRef<int64_t> as = shapeOf(a), ws = shapeOf(w);
  // 1-D operands are promoted to matrices (and the result loses that
  // dimension): promote dY the same way.
  SmallVector<int64_t> a2(as), w2(ws);
  if (a2.size() == 1)
    a2.insert(a2.begin(), 1);
  if (w2.size() == 1)
    w2.push_back(1);
  SmallVector<int64_t> y2(shapeOf(dy));
  if (as.size() == 1)
    y2.insert(y2.end() - (ws.size() == 1 ? 0 : 1), 1);
  if (ws.size() == 1)
    y2.push_back(1);
  Value a2v = reshapeTo(b, loc, a, a2), w2v = reshapeTo(b, loc, w, w2),
        dy2 = reshapeTo(b, loc, dy, y2);
  Type element = elementTypeOf(a);
  Value da, dw;
  if (w2.size() == 2) {
    // Weights: fold A's batch dimensions into rows and use Gemm.
    int64_t k = a2.back(), n = w2.back();
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < a2.size(); ++i)
      rows *= a2[i];
    Value aFlat = reshapeTo(b, loc, a2v, {rows, k});
    Value dyFlat = reshapeTo(b, loc, dy2, {rows, n});
    auto one = b.getF64FloatAttr(1.0), zero = b.getF64FloatAttr(0.0);
    da = GemmOp::create(b, loc, dyFlat, w2v, Value(), one, zero,
                        b.getBoolAttr(false), b.getBoolAttr(true),
                        /*recurrent=*/nullptr);
    da = reshapeTo(b, loc, da, a2);
    dw = GemmOp::create(b, loc, aFlat, dyFlat, Value(), one, zero,
                        b.getBoolAttr(true), b.getBoolAttr(false),
                        /*recurrent=*/nullptr);
  } else {
    da = MatMulOp::create(b, loc, dy2, transposeLast(b, loc, w2v));
    dw = MatMulOp::create(b, loc, transposeLast(b, loc, a2v), dy2);
    da = sumToShape(b, loc, da, RankedTensorType::get(a2, element));
    dw = sumToShape(b, loc, dw, RankedTensorType::get(w2, element));
  }
  operandGrads.assign({reshapeTo(b, loc, da, as), reshapeTo(b, loc, dw, ws)});
  return success();
}
