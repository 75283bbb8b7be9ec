// TensorKernelsTest.cpp - the data-movement kernels (shape, transpose,
// concat, split, slice, gather, pad, expand, tile) against hand-computed
// cases and a naive reference, and their checks against inconsistent
// programs.
//
// The reference maps every result coordinate to an operand coordinate
// through one index list per dimension, built element by element the way
// the op's definition reads (a slice's start, start + step, ...; a
// reflection's mirror images), rather than by the kernels' stride
// arithmetic.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

using namespace mlg_rt;
using mlg_rt::test::KernelHarness;

namespace {

using Shape = std::vector<int64_t>;
using Ints = std::vector<int64_t>;

int64_t numel(const Shape &s) {
  return std::accumulate(s.begin(), s.end(), int64_t(1),
                         std::multiplies<int64_t>());
}

/// Distinct small integers (exact in every element type, f16 included).
std::vector<double> iota(int64_t n, double from = 1) {
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i)
    v[i] = from + double(i % 100);
  return v;
}

std::vector<double> randomValues(int64_t n, std::mt19937 &rng) {
  std::uniform_int_distribution<int> dist(-50, 50);
  std::vector<double> v(n);
  for (double &x : v)
    x = dist(rng);
  return v;
}

/// The row-major result of reading `in` (of shape `inShape`) at
/// in[lists[0][c0], lists[1][c1], ...] for every result coordinate; an
/// entry -1 in a list gives `fill`.
std::vector<double> gatherByLists(const std::vector<double> &in,
                                  const Shape &inShape,
                                  const std::vector<Ints> &lists,
                                  double fill = 0) {
  size_t rank = lists.size();
  Shape outShape;
  for (const Ints &l : lists)
    outShape.push_back(int64_t(l.size()));
  std::vector<double> out;
  int64_t n = numel(outShape);
  Ints coord(rank, 0);
  for (int64_t flat = 0; flat < n; ++flat) {
    int64_t rem = flat;
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      coord[d] = rem % outShape[d];
      rem /= outShape[d];
    }
    int64_t src = 0;
    bool isFill = false;
    for (size_t d = 0; d < rank; ++d) {
      int64_t i = lists[d][coord[d]];
      if (i < 0)
        isFill = true;
      src = src * inShape[d] + (i < 0 ? 0 : i);
    }
    out.push_back(isFill ? fill : in[src]);
  }
  return out;
}

Ints range(int64_t n) {
  Ints l(n);
  std::iota(l.begin(), l.end(), 0);
  return l;
}

void expectError(const Status &s, const std::string &needle = "") {
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.message();
}

//===----------------------------------------------------------------------===//
// shape
//===----------------------------------------------------------------------===//

TEST(TensorShape, ReturnsTheDimensionRange) {
  KernelHarness h("shape");
  h.input<double>(DType::F32, {2, 3, 4}, iota(24));
  h.output(DType::I64, {2});
  h.attrs().set("start", int64_t(1));
  h.attrs().set("end", int64_t(3));
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int64_t>(0), (std::vector<int64_t>{3, 4}));
}

TEST(TensorShape, CheckRejectsInconsistentPrograms) {
  auto make = [](int64_t start, int64_t end, Shape out, DType t) {
    auto h = std::make_unique<KernelHarness>("shape");
    h->input<double>(DType::F32, {2, 3}, iota(6));
    h->output(t, out);
    h->attrs().set("start", start);
    h->attrs().set("end", end);
    return h;
  };
  EXPECT_TRUE(make(0, 2, {2}, DType::I64)->check().ok());
  EXPECT_TRUE(make(1, 1, {0}, DType::I64)->check().ok());
  expectError(make(0, 3, {3}, DType::I64)->check(), "rank");
  expectError(make(2, 1, {0}, DType::I64)->check(), "start");
  expectError(make(-1, 1, {2}, DType::I64)->check(), "start");
  expectError(make(0, 2, {3}, DType::I64)->check(), "shape");
  expectError(make(0, 2, {2}, DType::I32)->check(), "type");
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

TEST(TensorTranspose, Matrix) {
  KernelHarness h("transpose");
  h.input<double>(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  h.output(DType::F32, {3, 2});
  h.attrs().set("perm", Ints{1, 0});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

/// Result[c] = in[c permuted back], by coordinates.
std::vector<double> transposeRef(const std::vector<double> &in,
                                 const Shape &shape, const Ints &perm) {
  Shape outShape;
  for (int64_t p : perm)
    outShape.push_back(shape[p]);
  std::vector<double> out(in.size());
  size_t rank = shape.size();
  for (int64_t flat = 0; flat < int64_t(in.size()); ++flat) {
    Ints oc(rank);
    int64_t rem = flat;
    for (int64_t d = int64_t(rank) - 1; d >= 0; --d) {
      oc[d] = rem % outShape[d];
      rem /= outShape[d];
    }
    Ints ic(rank);
    for (size_t d = 0; d < rank; ++d)
      ic[perm[d]] = oc[d];
    int64_t src = 0;
    for (size_t d = 0; d < rank; ++d)
      src = src * shape[d] + ic[d];
    out[flat] = in[src];
  }
  return out;
}

TEST(TensorTranspose, MatchesReferenceForEveryTypeAndPermutation) {
  std::mt19937 rng(1);
  Shape shape{2, 3, 1, 4};
  Ints perm{0, 1, 2, 3};
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I8,
                  DType::U16, DType::I32, DType::I64, DType::Bool}) {
    do {
      std::vector<double> in = randomValues(numel(shape), rng);
      if (t == DType::Bool)
        for (double &x : in)
          x = x > 0;
      if (t == DType::U16)
        for (double &x : in)
          x = x + 50;
      Shape outShape;
      for (int64_t p : perm)
        outShape.push_back(shape[p]);
      KernelHarness h("transpose");
      h.input<double>(t, shape, in);
      h.output(t, outShape);
      h.attrs().set("perm", perm);
      ASSERT_TRUE(h.run().ok());
      EXPECT_EQ(h.outputAs<double>(0), transposeRef(in, shape, perm))
          << dtypeName(t) << " perm " << perm[0] << perm[1] << perm[2]
          << perm[3];
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST(TensorTranspose, ScalarAndEmpty) {
  KernelHarness s("transpose");
  s.input<double>(DType::I64, {}, {7});
  s.output(DType::I64, {});
  s.attrs().set("perm", Ints{});
  ASSERT_TRUE(s.run().ok());
  EXPECT_EQ(s.outputAs<int64_t>(0), (std::vector<int64_t>{7}));

  KernelHarness e("transpose");
  e.input<double>(DType::F32, {0, 3}, {});
  e.output(DType::F32, {3, 0});
  e.attrs().set("perm", Ints{1, 0});
  EXPECT_TRUE(e.run().ok());
}

TEST(TensorTranspose, CheckRejectsInconsistentPrograms) {
  auto make = [](Ints perm, Shape out, DType t = DType::F32) {
    auto h = std::make_unique<KernelHarness>("transpose");
    h->input<double>(DType::F32, {2, 3, 4}, iota(24));
    h->output(t, out);
    h->attrs().set("perm", perm);
    return h;
  };
  EXPECT_TRUE(make({2, 0, 1}, {4, 2, 3})->check().ok());
  expectError(make({2, 0, 1}, {4, 3, 2})->check(), "shape");
  expectError(make({2, 0, 0}, {4, 2, 2})->check(), "permutation");
  expectError(make({3, 0, 1}, {4, 2, 3})->check(), "permutation");
  expectError(make({1, 0}, {3, 2})->check(), "perm");
  expectError(make({2, 0, 1}, {4, 2, 3}, DType::F16)->check(), "type");
  KernelHarness none("transpose");
  none.input<double>(DType::F32, {2}, {1, 2});
  none.output(DType::F32, {2});
  expectError(none.check(), "perm");
}

//===----------------------------------------------------------------------===//
// concat and split
//===----------------------------------------------------------------------===//

TEST(TensorConcat, JoinsAlongTheAxis) {
  KernelHarness h("concat");
  h.input<double>(DType::F32, {2, 1}, {1, 2});
  h.input<double>(DType::F32, {2, 2}, {3, 4, 5, 6});
  h.input<double>(DType::F32, {2, 0}, {});
  h.input<double>(DType::F32, {2, 3}, {7, 8, 9, 10, 11, 12});
  h.output(DType::F32, {2, 6});
  h.attrs().set("axis", int64_t(1));
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0),
            (std::vector<float>{1, 3, 4, 7, 8, 9, 2, 5, 6, 10, 11, 12}));

  KernelHarness a0("concat");
  a0.input<double>(DType::I8, {1, 2}, {1, 2});
  a0.input<double>(DType::I8, {2, 2}, {3, 4, 5, 6});
  a0.output(DType::I8, {3, 2});
  a0.attrs().set("axis", int64_t(0));
  ASSERT_TRUE(a0.run().ok());
  EXPECT_EQ(a0.outputAs<int>(0), (std::vector<int>{1, 2, 3, 4, 5, 6}));
}

TEST(TensorConcat, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape b, Shape out, int64_t axis, DType bt = DType::F32) {
    auto h = std::make_unique<KernelHarness>("concat");
    h->input<double>(DType::F32, {2, 3}, iota(6));
    h->input<double>(bt, b, iota(numel(b)));
    h->output(DType::F32, out);
    h->attrs().set("axis", axis);
    return h;
  };
  EXPECT_TRUE(make({2, 4}, {2, 7}, 1)->check().ok());
  expectError(make({2, 4}, {2, 8}, 1)->check(), "shape");
  expectError(make({3, 4}, {2, 7}, 1)->check(), "dimension 0");
  expectError(make({2, 4}, {2, 7}, 2)->check(), "axis");
  expectError(make({2, 4}, {2, 7}, -1)->check(), "axis");
  expectError(make({2, 4, 1}, {2, 7}, 1)->check(), "rank");
  expectError(make({2, 4}, {2, 7}, 1, DType::F64)->check(), "type");
  KernelHarness none("concat");
  none.output(DType::F32, {2});
  none.attrs().set("axis", int64_t(0));
  expectError(none.check(), "operand");
}

TEST(TensorSplit, CutsAlongTheAxis) {
  KernelHarness h("split");
  h.input<double>(DType::I64, {2, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  h.output(DType::I64, {2, 2});
  h.output(DType::I64, {2, 0});
  h.output(DType::I64, {2, 3});
  h.attrs().set("axis", int64_t(1));
  h.attrs().set("sizes", Ints{2, 0, 3});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int64_t>(0), (std::vector<int64_t>{0, 1, 5, 6}));
  EXPECT_EQ(h.outputAs<int64_t>(1), (std::vector<int64_t>{}));
  EXPECT_EQ(h.outputAs<int64_t>(2), (std::vector<int64_t>{2, 3, 4, 7, 8, 9}));
}

TEST(TensorSplit, InvertsConcat) {
  std::mt19937 rng(2);
  Shape shape{3, 4, 5};
  std::vector<double> in = randomValues(numel(shape), rng);
  for (int64_t axis = 0; axis < 3; ++axis) {
    Ints sizes{1, shape[axis] - 1};
    KernelHarness s("split");
    s.input<double>(DType::F16, shape, in);
    for (int64_t size : sizes) {
      Shape part = shape;
      part[axis] = size;
      s.output(DType::F16, part);
    }
    s.attrs().set("axis", axis);
    s.attrs().set("sizes", sizes);
    ASSERT_TRUE(s.run().ok());
    KernelHarness c("concat");
    for (size_t i = 0; i < sizes.size(); ++i) {
      Shape part = shape;
      part[axis] = sizes[i];
      c.input<double>(DType::F16, part, s.outputAs<double>(i));
    }
    c.output(DType::F16, shape);
    c.attrs().set("axis", axis);
    ASSERT_TRUE(c.run().ok());
    EXPECT_EQ(c.outputAs<double>(0), in) << "axis " << axis;
    // The first piece, by the reference.
    std::vector<Ints> lists{range(shape[0]), range(shape[1]), range(shape[2])};
    lists[axis] = {0};
    EXPECT_EQ(s.outputAs<double>(0), gatherByLists(in, shape, lists));
  }
}

TEST(TensorSplit, CheckRejectsInconsistentPrograms) {
  auto make = [](Ints sizes, std::vector<Shape> outs, int64_t axis = 0) {
    auto h = std::make_unique<KernelHarness>("split");
    h->input<double>(DType::F32, {4, 2}, iota(8));
    for (const Shape &o : outs)
      h->output(DType::F32, o);
    h->attrs().set("axis", axis);
    h->attrs().set("sizes", sizes);
    return h;
  };
  EXPECT_TRUE(make({1, 3}, {{1, 2}, {3, 2}})->check().ok());
  expectError(make({1, 2}, {{1, 2}, {2, 2}})->check(), "add up");
  expectError(make({1, 3}, {{1, 2}, {2, 2}})->check(), "shape");
  expectError(make({1, 3}, {{1, 2}})->check(), "outputs");
  expectError(make({-1, 5}, {{0, 2}, {5, 2}})->check(), "non-negative");
  expectError(make({1, 3}, {{1, 2}, {3, 2}}, 2)->check(), "axis");
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

/// The indices a normalized (start, end, step) visits, one at a time.
Ints sliceList(int64_t start, int64_t end, int64_t step) {
  Ints l;
  for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
    l.push_back(i);
  return l;
}

TEST(TensorSlice, HandComputed) {
  // x = [[0..9], [10..19]]; rows 1 down to 0, columns 8, 5, 2.
  KernelHarness h("slice");
  h.input<double>(DType::F32, {2, 10}, iota(20, 0));
  h.output(DType::F32, {2, 3});
  h.attrs().set("starts", Ints{1, 8});
  h.attrs().set("ends", Ints{-1, 0});
  h.attrs().set("steps", Ints{-1, -3});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{18, 15, 12, 8, 5, 2}));

  KernelHarness p("slice");
  p.input<double>(DType::I32, {2, 10}, iota(20, 0));
  p.output(DType::I32, {1, 4});
  p.attrs().set("starts", Ints{1, 4});
  p.attrs().set("ends", Ints{2, 8});
  p.attrs().set("steps", Ints{1, 1});
  ASSERT_TRUE(p.run().ok());
  EXPECT_EQ(p.outputAs<int>(0), (std::vector<int>{14, 15, 16, 17}));
}

TEST(TensorSlice, MatchesReference) {
  std::mt19937 rng(3);
  Shape shape{3, 4, 5};
  std::vector<double> in = randomValues(numel(shape), rng);
  // Per dimension: every normalized (start, end, step) with |step| <= 3.
  auto triples = [](int64_t dim) {
    std::vector<Ints> t;
    for (int64_t step : {1, 2, 3, -1, -2, -3})
      for (int64_t s = step > 0 ? 0 : -1; s <= (step > 0 ? dim : dim - 1); ++s)
        for (int64_t e = step > 0 ? 0 : -1; e <= (step > 0 ? dim : dim - 1);
             ++e)
          t.push_back({s, e, step});
    return t;
  };
  std::vector<std::vector<Ints>> all{triples(3), triples(4), triples(5)};
  for (int trial = 0; trial < 300; ++trial) {
    Ints starts, ends, steps;
    std::vector<Ints> lists;
    Shape outShape;
    for (int d = 0; d < 3; ++d) {
      const Ints &t = all[d][rng() % all[d].size()];
      starts.push_back(t[0]);
      ends.push_back(t[1]);
      steps.push_back(t[2]);
      lists.push_back(sliceList(t[0], t[1], t[2]));
      outShape.push_back(int64_t(lists.back().size()));
    }
    KernelHarness h("slice");
    h.input<double>(DType::F64, shape, in);
    h.output(DType::F64, outShape);
    h.attrs().set("starts", starts);
    h.attrs().set("ends", ends);
    h.attrs().set("steps", steps);
    ASSERT_TRUE(h.run().ok());
    EXPECT_EQ(h.outputAs<double>(0), gatherByLists(in, shape, lists))
        << "trial " << trial;
  }
}

TEST(TensorSlice, HugeStepTakesOneElement) {
  KernelHarness h("slice");
  h.input<double>(DType::U8, {2, 3}, iota(6, 0));
  h.output(DType::U8, {1, 1});
  h.attrs().set("starts", Ints{1, 2});
  h.attrs().set("ends", Ints{2, -1});
  h.attrs().set("steps", Ints{INT64_MAX, -INT64_MAX});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int>(0), (std::vector<int>{5}));
}

TEST(TensorSlice, CheckRejectsInconsistentPrograms) {
  auto make = [](Ints starts, Ints ends, Ints steps, Shape out) {
    auto h = std::make_unique<KernelHarness>("slice");
    h->input<double>(DType::F32, {4, 6}, iota(24));
    h->output(DType::F32, out);
    h->attrs().set("starts", starts);
    h->attrs().set("ends", ends);
    h->attrs().set("steps", steps);
    return h;
  };
  EXPECT_TRUE(make({0, 5}, {4, -1}, {2, -2}, {2, 3})->check().ok());
  EXPECT_TRUE(make({4, 0}, {4, 6}, {1, 1}, {0, 6})->check().ok());
  expectError(make({0, 5}, {4, -1}, {2, -2}, {2, 2})->check(), "shape");
  expectError(make({0, 0}, {5, 6}, {1, 1}, {5, 6})->check(), "normalized");
  expectError(make({-1, 0}, {4, 6}, {1, 1}, {5, 6})->check(), "normalized");
  expectError(make({0, 6}, {4, 0}, {1, -1}, {4, 6})->check(), "normalized");
  expectError(make({0, 5}, {4, -2}, {1, -1}, {4, 7})->check(), "normalized");
  expectError(make({0, 0}, {4, 6}, {1, 0}, {4, 0})->check(), "normalized");
  expectError(make({0, 5}, {4, -1}, {1, INT64_MIN}, {4, 1})->check(),
              "normalized");
  expectError(make({0}, {4}, {1}, {4, 6})->check(), "one entry");
}

//===----------------------------------------------------------------------===//
// gather
//===----------------------------------------------------------------------===//

TEST(TensorGather, HandComputed) {
  // data [[1, 2, 3], [4, 5, 6]]; axis 1 with indices [[2, -3], [1, 1]].
  KernelHarness h("gather");
  h.input<double>(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
  h.input<double>(DType::I64, {2, 2}, {2, -3, 1, 1});
  h.output(DType::F32, {2, 2, 2});
  h.attrs().set("axis", int64_t(1));
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0), (std::vector<float>{3, 1, 2, 2, 6, 4, 5, 5}));

  // Axis 0 with i32 indices: whole rows.
  KernelHarness r("gather");
  r.input<double>(DType::Bool, {3, 2}, {1, 0, 0, 1, 1, 1});
  r.input<double>(DType::I32, {4}, {2, 0, -1, 1});
  r.output(DType::Bool, {4, 2});
  r.attrs().set("axis", int64_t(0));
  ASSERT_TRUE(r.run().ok());
  EXPECT_EQ(r.outputAs<int>(0), (std::vector<int>{1, 1, 1, 0, 1, 1, 0, 1}));

  // A scalar index drops the axis.
  KernelHarness s("gather");
  s.input<double>(DType::I64, {2, 3}, {1, 2, 3, 4, 5, 6});
  s.input<double>(DType::I64, {}, {-1});
  s.output(DType::I64, {2});
  s.attrs().set("axis", int64_t(1));
  ASSERT_TRUE(s.run().ok());
  EXPECT_EQ(s.outputAs<int64_t>(0), (std::vector<int64_t>{3, 6}));
}

TEST(TensorGather, MatchesReference) {
  std::mt19937 rng(4);
  Shape shape{3, 5, 4};
  std::vector<double> in = randomValues(numel(shape), rng);
  for (int64_t axis = 0; axis < 3; ++axis) {
    int64_t dim = shape[axis];
    std::vector<double> idx;
    Ints list;
    for (int i = 0; i < 6; ++i) {
      int64_t k = int64_t(rng() % (2 * dim)) - dim;
      idx.push_back(double(k));
      list.push_back(k < 0 ? k + dim : k);
    }
    Shape outShape(shape.begin(), shape.begin() + axis);
    outShape.insert(outShape.end(), {2, 3});
    outShape.insert(outShape.end(), shape.begin() + axis + 1, shape.end());
    KernelHarness h("gather");
    h.input<double>(DType::BF16, shape, in);
    h.input<double>(DType::I32, {2, 3}, idx);
    h.output(DType::BF16, outShape);
    h.attrs().set("axis", axis);
    ASSERT_TRUE(h.run().ok());
    // Indices of shape [2, 3] index the axis in row-major order, so the
    // result is the reference with that axis's list, reshaped.
    std::vector<Ints> lists{range(shape[0]), range(shape[1]), range(shape[2])};
    lists[axis] = list;
    EXPECT_EQ(h.outputAs<double>(0), gatherByLists(in, shape, lists))
        << "axis " << axis;
  }
}

TEST(TensorGather, RunRejectsOutOfRangeIndices) {
  for (int64_t bad :
       {int64_t(3), int64_t(4), int64_t(-4), int64_t(1) << 62, INT64_MIN}) {
    for (DType it : {DType::I32, DType::I64}) {
      if (it == DType::I32 && (bad == int64_t(1) << 62 || bad == INT64_MIN))
        continue;
      KernelHarness h("gather");
      h.input<double>(DType::F32, {3, 2}, iota(6));
      h.input<int64_t>(it, {3}, {0, bad, 1});
      h.output(DType::F32, {3, 2});
      h.attrs().set("axis", int64_t(0));
      ASSERT_TRUE(h.check().ok());
      expectError(h.run(), "out of range");
    }
  }
  // Any index into an empty axis is out of range.
  KernelHarness e("gather");
  e.input<double>(DType::F32, {0, 2}, {});
  e.input<int64_t>(DType::I64, {1}, {0});
  e.output(DType::F32, {1, 2});
  e.attrs().set("axis", int64_t(0));
  expectError(e.run(), "out of range");
}

TEST(TensorGather, CheckRejectsInconsistentPrograms) {
  auto make = [](DType it, Shape out, int64_t axis, DType ot = DType::F32) {
    auto h = std::make_unique<KernelHarness>("gather");
    h->input<double>(DType::F32, {3, 4}, iota(12));
    h->input<double>(it, {2}, {0, 1});
    h->output(ot, out);
    h->attrs().set("axis", axis);
    return h;
  };
  EXPECT_TRUE(make(DType::I32, {3, 2}, 1)->check().ok());
  expectError(make(DType::I32, {2, 3}, 1)->check(), "shape");
  expectError(make(DType::I32, {3, 2}, 2)->check(), "axis");
  expectError(make(DType::F32, {3, 2}, 1)->check(), "indices");
  expectError(make(DType::I16, {3, 2}, 1)->check(), "indices");
  expectError(make(DType::I64, {3, 2}, 1, DType::F16)->check(), "type");
}

//===----------------------------------------------------------------------===//
// pad
//===----------------------------------------------------------------------===//

/// The indices that padding `dim` by `before` and `after` reads, built as
/// the definition reads: mirror images (reflect), copies of the end (edge)
/// or -1 (constant) added outward, then negative amounts cropped.
Ints padList(int64_t dim, int64_t before, int64_t after,
             const std::string &mode) {
  auto pick = [&](int64_t reflect, int64_t edge) {
    return mode == "reflect" ? reflect : mode == "edge" ? edge : -1;
  };
  Ints l = range(dim);
  for (int64_t k = 1; k <= before; ++k)
    l.insert(l.begin(), pick(k, 0));
  for (int64_t k = 1; k <= after; ++k)
    l.push_back(pick(dim - 1 - k, dim - 1));
  if (before < 0)
    l.erase(l.begin(), l.begin() + (-before));
  if (after < 0)
    l.erase(l.end() - (-after), l.end());
  return l;
}

TEST(TensorPad, HandComputed) {
  // x = [[1, 2, 3], [4, 5, 6]], two columns before and one after.
  struct Case {
    std::string mode;
    std::vector<float> expected;
  } cases[] = {
      {"constant", {0, 0, 1, 2, 3, 0, 0, 0, 4, 5, 6, 0}},
      {"reflect", {3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5}},
      {"edge", {1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6}},
  };
  for (const Case &c : cases) {
    KernelHarness h("pad");
    h.input<double>(DType::F32, {2, 3}, {1, 2, 3, 4, 5, 6});
    h.output(DType::F32, {2, 6});
    h.attrs().set("pads", Ints{0, 2, 0, 1});
    h.attrs().set("mode", c.mode);
    h.attrs().set("value", 0.0);
    ASSERT_TRUE(h.run().ok()) << c.mode;
    EXPECT_EQ(h.outputAs<float>(0), c.expected) << c.mode;
  }
}

TEST(TensorPad, ConstantValueAndCropping) {
  // [[1, 2, 3], [4, 5, 6]]: one row of 9 above, drop the first column, one
  // column of 9 after.
  KernelHarness h("pad");
  h.input<double>(DType::I32, {2, 3}, {1, 2, 3, 4, 5, 6});
  h.output(DType::I32, {3, 3});
  h.attrs().set("pads", Ints{1, -1, 0, 1});
  h.attrs().set("mode", std::string("constant"));
  h.attrs().set("value", 9.0);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int>(0), (std::vector<int>{9, 9, 9, 2, 3, 9, 5, 6, 9}));

  // A value outside the type's range saturates instead of overflowing.
  KernelHarness s("pad");
  s.input<double>(DType::I8, {1}, {1});
  s.output(DType::I8, {3});
  s.attrs().set("pads", Ints{1, 1});
  s.attrs().set("mode", std::string("constant"));
  s.attrs().set("value", 1e9);
  ASSERT_TRUE(s.run().ok());
  EXPECT_EQ(s.outputAs<int>(0), (std::vector<int>{127, 1, 127}));
}

TEST(TensorPad, MatchesReference) {
  std::mt19937 rng(5);
  Shape shape{3, 4, 5};
  std::vector<double> in = randomValues(numel(shape), rng);
  for (std::string mode : {"constant", "reflect", "edge"}) {
    for (int trial = 0; trial < 200; ++trial) {
      Ints pads(6);
      std::vector<Ints> lists;
      Shape outShape;
      for (int d = 0; d < 3; ++d) {
        int64_t dim = shape[d];
        // Reflection needs amounts below the size; cropping keeps >= 0.
        int64_t lo = -(dim - 1), hi = mode == "reflect" ? dim - 1 : dim + 1;
        pads[d] = lo + int64_t(rng() % (hi - lo + 1));
        int64_t lo2 = std::max<int64_t>(lo, -(dim + pads[d]));
        pads[d + 3] = lo2 + int64_t(rng() % (hi - lo2 + 1));
        lists.push_back(padList(dim, pads[d], pads[d + 3], mode));
        outShape.push_back(int64_t(lists.back().size()));
      }
      KernelHarness h("pad");
      h.input<double>(DType::F32, shape, in);
      h.output(DType::F32, outShape);
      h.attrs().set("pads", pads);
      h.attrs().set("mode", mode);
      h.attrs().set("value", -7.5);
      ASSERT_TRUE(h.run().ok()) << mode << " trial " << trial;
      EXPECT_EQ(h.outputAs<double>(0), gatherByLists(in, shape, lists, -7.5))
          << mode << " trial " << trial;
    }
  }
}

TEST(TensorPad, EmptyOperandAndScalar) {
  KernelHarness h("pad");
  h.input<double>(DType::F16, {0, 2}, {});
  h.output(DType::F16, {2, 3});
  h.attrs().set("pads", Ints{1, 0, 1, 1});
  h.attrs().set("mode", std::string("constant"));
  h.attrs().set("value", 0.5);
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<double>(0), std::vector<double>(6, 0.5));

  KernelHarness s("pad");
  s.input<double>(DType::F32, {}, {3});
  s.output(DType::F32, {});
  s.attrs().set("pads", Ints{});
  s.attrs().set("mode", std::string("edge"));
  ASSERT_TRUE(s.run().ok());
  EXPECT_EQ(s.outputAs<float>(0), (std::vector<float>{3}));
}

TEST(TensorPad, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape in, Ints pads, std::string mode, Shape out,
                 bool value = true) {
    auto h = std::make_unique<KernelHarness>("pad");
    h->input<double>(DType::F32, in, iota(numel(in)));
    h->output(DType::F32, out);
    h->attrs().set("pads", pads);
    h->attrs().set("mode", mode);
    if (value)
      h->attrs().set("value", 0.0);
    return h;
  };
  EXPECT_TRUE(make({2, 3}, {1, 2, 0, 2}, "reflect", {3, 7})->check().ok());
  EXPECT_TRUE(make({2, 3}, {-2, 0, 1, 0}, "edge", {1, 3})->check().ok());
  expectError(make({2, 3}, {1, 2, 0, 2}, "reflect", {3, 6})->check(), "shape");
  expectError(make({2, 3}, {2, 0, 0, 0}, "reflect", {4, 3})->check(),
              "reflect");
  expectError(make({2, 3}, {0, 0, 0, 3}, "reflect", {2, 6})->check(),
              "reflect");
  expectError(make({0, 3}, {1, 0, 0, 0}, "edge", {1, 3})->check(), "edge");
  expectError(make({2, 3}, {-2, 0, -1, 0}, "constant", {0, 3})->check(),
              "negative");
  expectError(make({2, 3}, {1, 1}, "constant", {3, 4})->check(), "pads");
  expectError(make({2, 3}, {0, 0, 0, 0}, "wrap", {2, 3})->check(), "mode");
  expectError(make({2, 3}, {0, 0, 0, 0}, "constant", {2, 3}, false)->check(),
              "value");
  expectError(make({2, 3}, {INT64_MAX, 0, 1, 0}, "constant", {2, 3})->check(),
              "overflow");
}

//===----------------------------------------------------------------------===//
// expand and tile
//===----------------------------------------------------------------------===//

TEST(TensorExpand, Broadcasts) {
  KernelHarness h("expand");
  h.input<double>(DType::F32, {3, 1}, {1, 2, 3});
  h.output(DType::F32, {2, 3, 2});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<float>(0),
            (std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}));
}

TEST(TensorExpand, MatchesReference) {
  std::mt19937 rng(6);
  Shape out{2, 3, 4, 5};
  for (int mask = 0; mask < 16; ++mask) {
    for (int64_t drop = 0; drop <= 2; ++drop) {
      // Operand: the result's shape with the masked dimensions 1 and the
      // first `drop` dimensions missing.
      Shape in;
      std::vector<Ints> lists;
      for (int d = 0; d < 4; ++d) {
        bool one = mask & (1 << d);
        if (d >= drop)
          in.push_back(one ? 1 : out[d]);
        lists.push_back(one || d < drop ? Ints(out[d], 0) : range(out[d]));
      }
      std::vector<double> values = randomValues(numel(in), rng);
      KernelHarness h("expand");
      h.input<double>(DType::I16, in, values);
      h.output(DType::I16, out);
      ASSERT_TRUE(h.run().ok());
      // The reference reads a full-rank operand whose dropped and unit
      // dimensions always give index 0.
      Shape full(4);
      for (int d = 0; d < 4; ++d)
        full[d] = d < drop ? 1 : in[d - drop];
      EXPECT_EQ(h.outputAs<double>(0), gatherByLists(values, full, lists))
          << "mask " << mask << " drop " << drop;
    }
  }
}

TEST(TensorExpand, CheckRejectsInconsistentPrograms) {
  auto make = [](Shape in, Shape out, DType ot = DType::F32) {
    auto h = std::make_unique<KernelHarness>("expand");
    h->input<double>(DType::F32, in, iota(numel(in)));
    h->output(ot, out);
    return h;
  };
  EXPECT_TRUE(make({3, 1}, {2, 3, 4})->check().ok());
  EXPECT_TRUE(make({3, 1}, {3, 0})->check().ok());
  expectError(make({3}, {1})->check(), "broadcast");
  expectError(make({3, 1}, {2, 4})->check(), "broadcast");
  expectError(make({2, 3}, {3})->check(), "broadcast");
  expectError(make({3, 1}, {3, 4}, DType::F64)->check(), "type");
}

TEST(TensorTile, Repeats) {
  KernelHarness h("tile");
  h.input<double>(DType::I64, {2, 2}, {1, 2, 3, 4});
  h.output(DType::I64, {4, 6});
  h.attrs().set("repeats", Ints{2, 3});
  ASSERT_TRUE(h.run().ok());
  EXPECT_EQ(h.outputAs<int64_t>(0),
            (std::vector<int64_t>{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
                                  1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}));

  KernelHarness z("tile");
  z.input<double>(DType::I64, {2, 2}, {1, 2, 3, 4});
  z.output(DType::I64, {0, 2});
  z.attrs().set("repeats", Ints{0, 1});
  EXPECT_TRUE(z.run().ok());
}

TEST(TensorTile, MatchesReference) {
  std::mt19937 rng(7);
  Shape shape{2, 1, 3};
  std::vector<double> in = randomValues(numel(shape), rng);
  for (int trial = 0; trial < 50; ++trial) {
    Ints repeats;
    std::vector<Ints> lists;
    Shape outShape;
    for (int64_t dim : shape) {
      int64_t r = 1 + int64_t(rng() % 3);
      repeats.push_back(r);
      Ints l;
      for (int64_t k = 0; k < r; ++k)
        for (int64_t i = 0; i < dim; ++i)
          l.push_back(i);
      lists.push_back(l);
      outShape.push_back(dim * r);
    }
    KernelHarness h("tile");
    h.input<double>(DType::F32, shape, in);
    h.output(DType::F32, outShape);
    h.attrs().set("repeats", repeats);
    ASSERT_TRUE(h.run().ok());
    EXPECT_EQ(h.outputAs<double>(0), gatherByLists(in, shape, lists))
        << "trial " << trial;
  }
}

TEST(TensorTile, CheckRejectsInconsistentPrograms) {
  auto make = [](Ints repeats, Shape out) {
    auto h = std::make_unique<KernelHarness>("tile");
    h->input<double>(DType::F32, {2, 3}, iota(6));
    h->output(DType::F32, out);
    h->attrs().set("repeats", repeats);
    return h;
  };
  EXPECT_TRUE(make({1, 2}, {2, 6})->check().ok());
  expectError(make({1, 2}, {2, 5})->check(), "shape");
  expectError(make({1, -2}, {2, 6})->check(), "non-negative");
  expectError(make({2}, {4, 3})->check(), "repeats");
  expectError(make({1, INT64_MAX}, {2, 6})->check(), "64 bits");
}

} // namespace
