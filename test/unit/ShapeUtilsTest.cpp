//===- ShapeUtilsTest.cpp - shape arithmetic against brute force ----------===//
//
// Element counts against 128-bit arithmetic, broadcasting against the
// per-dimension definition over every small shape pair, and window sizes
// against sliding a window step by step.
//
//===----------------------------------------------------------------------===//

#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <limits>

using namespace mlg;

TEST(ShapeUtils, NumElementsMatches128BitProduct) {
  const int64_t dims[] = {0,
                          1,
                          2,
                          3,
                          1 << 20,
                          int64_t(1) << 31,
                          int64_t(1) << 40,
                          std::numeric_limits<int64_t>::max()};
  for (int64_t a : dims)
    for (int64_t b : dims)
      for (int64_t c : dims) {
        // Saturate at 2^64: anything above int64's range is "too large".
        __int128 exact = 1;
        for (int64_t d : {a, b, c})
          exact = std::min<__int128>(exact * d, (__int128)1 << 64);
        if (a == 0 || b == 0 || c == 0)
          exact = 0;
        std::optional<int64_t> n = checkedNumElements({a, b, c});
        if (exact > std::numeric_limits<int64_t>::max())
          EXPECT_FALSE(n.has_value()) << a << "x" << b << "x" << c;
        else
          EXPECT_EQ(n, static_cast<int64_t>(exact))
              << a << "x" << b << "x" << c;
      }
  EXPECT_FALSE(checkedNumElements({2, -1}).has_value());
  EXPECT_EQ(checkedNumElements({}), 1);
}

TEST(ShapeUtils, ByteSizeOverflowIsRejected) {
  mlir::MLIRContext ctx;
  mlir::Builder b(&ctx);
  auto small = mlir::RankedTensorType::get({128, 3, 224, 224}, b.getF32Type());
  EXPECT_EQ(checkedByteSize(small), int64_t(128) * 3 * 224 * 224 * 4);
  // 2^61 elements fit in int64, their bytes (2^63) do not.
  auto huge = mlir::RankedTensorType::get({int64_t(1) << 61}, b.getF32Type());
  EXPECT_FALSE(checkedByteSize(huge).has_value());
  auto bools = mlir::RankedTensorType::get({7}, b.getI1Type());
  EXPECT_EQ(checkedByteSize(bools), 7);
}

/// All shapes of rank <= 3 with dimensions in {0, 1, 2, 3}.
static std::vector<std::vector<int64_t>> smallShapes() {
  std::vector<std::vector<int64_t>> shapes = {{}};
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (shapes[i].size() == 3)
      continue;
    for (int64_t d = 0; d <= 3; ++d) {
      auto next = shapes[i];
      next.insert(next.begin(), d);
      shapes.push_back(next);
    }
  }
  return shapes;
}

TEST(ShapeUtils, BroadcastMatchesDefinition) {
  // Definition: R broadcasts with A and B iff for each right-aligned
  // dimension the sizes agree or one is 1; R takes the non-1 size. Checked by
  // trying every candidate result shape and keeping the ones both operands
  // stretch to.
  auto shapes = smallShapes();
  auto stretches = [](const std::vector<int64_t> &from,
                      const std::vector<int64_t> &to) {
    if (from.size() > to.size())
      return false;
    size_t off = to.size() - from.size();
    for (size_t i = 0; i < from.size(); ++i)
      if (from[i] != 1 && from[i] != to[off + i])
        return false;
    return true;
  };
  for (const auto &a : shapes)
    for (const auto &b : shapes) {
      std::optional<std::vector<int64_t>> expected;
      size_t rank = std::max(a.size(), b.size());
      for (const auto &r : shapes) {
        if (r.size() != rank || !stretches(a, r) || !stretches(b, r))
          continue;
        // The result is the smallest such shape: a 1 only where both are 1.
        bool minimal = true;
        for (size_t i = 0; i < rank; ++i) {
          int64_t da = i + a.size() >= rank ? a[i + a.size() - rank] : 1;
          int64_t db = i + b.size() >= rank ? b[i + b.size() - rank] : 1;
          if (r[i] != std::max(da == 1 ? 0 : da, db == 1 ? 0 : db) &&
              !(r[i] == 1 && da == 1 && db == 1))
            minimal = false;
        }
        if (minimal)
          expected = r;
      }
      auto got = broadcastShapes(a, b);
      ASSERT_EQ(got.has_value(), expected.has_value());
      if (got) {
        EXPECT_EQ(std::vector<int64_t>(got->begin(), got->end()), *expected);
      }
    }
}

TEST(ShapeUtils, WindowSizeMatchesSlidingWindow) {
  for (int64_t in = 0; in <= 9; ++in)
    for (int64_t k = 1; k <= 4; ++k)
      for (int64_t s = 1; s <= 3; ++s)
        for (int64_t d = 1; d <= 2; ++d)
          for (int64_t pb = 0; pb <= 2; ++pb)
            for (int64_t pe = 0; pe <= 2; ++pe)
              for (bool ceil : {false, true}) {
                // Slide: window i covers padded positions [i*s, i*s + span).
                int64_t span = (k - 1) * d + 1, padded = in + pb + pe,
                        count = 0;
                for (int64_t start = 0;; start += s) {
                  bool fits = start + span <= padded;
                  // In ceil mode a window may run past the end padding if it
                  // starts inside the input or its leading padding and the
                  // previous one did not reach the end.
                  bool partial = ceil && start < in + pb &&
                                 start + span > padded &&
                                 (start == 0 || start - s + span < padded);
                  if (!fits && !partial)
                    break;
                  ++count;
                }
                std::optional<int64_t> got =
                    windowOutputSize(in, k, s, d, pb, pe, ceil);
                if (padded < span)
                  EXPECT_FALSE(got.has_value());
                else
                  EXPECT_EQ(got, count)
                      << "in=" << in << " k=" << k << " s=" << s << " d=" << d
                      << " pads=" << pb << "," << pe << " ceil=" << ceil;
              }
}
