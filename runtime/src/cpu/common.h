// common.h - helpers shared by CPU kernels: element access for every data
// type, type dispatch, strides and broadcasting.

#ifndef MLG_RT_SRC_CPU_COMMON_H
#define MLG_RT_SRC_CPU_COMMON_H

#include "kernel.h"

#include "mlg_rt/shape_math.h"

#include <cmath>
#include <cstring>
#include <vector>

namespace mlg_rt::cpu {

/// Storage and compute types of an element type: f16 and bf16 compute in
/// float; everything else in itself. `load`/`store` convert.
template <typename T> struct Elem {
  using Compute = T;
  static Compute load(T v) { return v; }
  static T store(Compute v) { return v; }
};
template <> struct Elem<Half> {
  using Compute = float;
  static float load(Half v) { return halfToFloat(v.bits); }
  static Half store(float v) { return Half{floatToHalf(v)}; }
};
template <> struct Elem<BFloat16> {
  using Compute = float;
  static float load(BFloat16 v) { return bf16ToFloat(v.bits); }
  static BFloat16 store(float v) { return BFloat16{floatToBf16(v)}; }
};

/// Calls `fn.template operator()<T>()` with T the storage type of `dtype`
/// (bool as uint8_t); returns `fn`'s Status, or an error for other types.
/// The Float/Numeric/Any variants limit the types.
#define MLG_RT_TYPE_CASE(DT, T)                                                \
  case DType::DT:                                                              \
    return fn.template operator()<T>();

template <typename Fn> Status dispatchFloat(DType dtype, Fn &&fn) {
  switch (dtype) {
    MLG_RT_TYPE_CASE(F32, float)
    MLG_RT_TYPE_CASE(F64, double)
    MLG_RT_TYPE_CASE(F16, Half)
    MLG_RT_TYPE_CASE(BF16, BFloat16)
  default:
    return Status::errorf("unsupported element type ", dtypeName(dtype));
  }
}

template <typename Fn> Status dispatchInt(DType dtype, Fn &&fn) {
  switch (dtype) {
    MLG_RT_TYPE_CASE(I8, int8_t)
    MLG_RT_TYPE_CASE(I16, int16_t)
    MLG_RT_TYPE_CASE(I32, int32_t)
    MLG_RT_TYPE_CASE(I64, int64_t)
    MLG_RT_TYPE_CASE(U8, uint8_t)
    MLG_RT_TYPE_CASE(U16, uint16_t)
    MLG_RT_TYPE_CASE(U32, uint32_t)
    MLG_RT_TYPE_CASE(U64, uint64_t)
  default:
    return Status::errorf("unsupported element type ", dtypeName(dtype));
  }
}

template <typename Fn> Status dispatchNumeric(DType dtype, Fn &&fn) {
  if (isFloat(dtype))
    return dispatchFloat(dtype, fn);
  return dispatchInt(dtype, fn);
}

/// Every type, bool as uint8_t (0 or 1).
template <typename Fn> Status dispatchAny(DType dtype, Fn &&fn) {
  if (dtype == DType::Bool)
    return fn.template operator()<uint8_t>();
  return dispatchNumeric(dtype, fn);
}

#undef MLG_RT_TYPE_CASE

/// Row-major strides of `shape`.
inline std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    s[i] = s[i + 1] * shape[i + 1];
  return s;
}

inline bool sameShape(const Tensor &a, const Tensor &b) {
  return *a.shape == *b.shape;
}

/// The shape `a` and `b` broadcast to, if they do.
inline std::optional<std::vector<int64_t>>
broadcast(const std::vector<int64_t> &a, const std::vector<int64_t> &b) {
  return broadcastShapes(a.data(), a.size(), b.data(), b.size());
}

/// Walks the flat indices of an output shape and yields, for each operand of
/// a broadcast, the flat index of the element that maps to it.
class BroadcastIndexer {
public:
  BroadcastIndexer(const std::vector<int64_t> &outShape,
                   const std::vector<const std::vector<int64_t> *> &inShapes)
      : shape_(outShape), counter_(outShape.size(), 0),
        index_(inShapes.size(), 0) {
    size_t rank = outShape.size();
    for (const std::vector<int64_t> *in : inShapes) {
      std::vector<int64_t> strides(rank, 0);
      std::vector<int64_t> own = stridesOf(*in);
      size_t off = rank - in->size();
      for (size_t d = 0; d < in->size(); ++d)
        strides[off + d] = (*in)[d] == 1 ? 0 : own[d];
      strides_.push_back(strides);
    }
  }
  /// The flat index into operand k for the current output element.
  int64_t operator[](size_t k) const { return index_[k]; }
  /// Moves to the next output element (row-major).
  void next() {
    for (int64_t d = int64_t(shape_.size()) - 1; d >= 0; --d) {
      for (size_t k = 0; k < index_.size(); ++k)
        index_[k] += strides_[k][d];
      if (++counter_[d] < shape_[d])
        return;
      for (size_t k = 0; k < index_.size(); ++k)
        index_[k] -= strides_[k][d] * shape_[d];
      counter_[d] = 0;
    }
  }

private:
  std::vector<int64_t> shape_, counter_, index_;
  std::vector<std::vector<int64_t>> strides_;
};

/// Reads an integer list attribute, or the default.
inline std::vector<int64_t> intsOr(const KernelCall &call, const char *name,
                                   std::vector<int64_t> dflt) {
  auto v = call.attrs().getInts(name);
  return v ? *v : dflt;
}

} // namespace mlg_rt::cpu

#endif // MLG_RT_SRC_CPU_COMMON_H
