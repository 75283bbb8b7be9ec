//===- CostModel.h - per-op FLOPs, bytes and predicted time -----*- C++ -*-===//
//
// What each op of a function costs and how long a device takes for it,
// for the recomputation passes to weigh bytes saved against time spent.
//
//  - FLOPs: from CostOpInterface for matrix products (convolutions and
//    their gradients, Gemm, MatMul, the LSTM's cells); one per result
//    element for every other op. Views (mlg.reshape), constants, global
//    loads and stores and terminators cost nothing.
//  - Bytes moved: every tensor operand's and result's bytes, once.
//  - Time: a measured time where the device profile has one for the op
//    (an mlg-run --profile file, matched by kernel and node name), else the
//    roofline max(FLOPs / throughput, bytes / bandwidth) plus a launch's
//    overhead, with the convolution, matrix or vector throughput.
//
//===----------------------------------------------------------------------===//

#ifndef MLG_PASSES_ANALYSIS_COSTMODEL_H
#define MLG_PASSES_ANALYSIS_COSTMODEL_H

#include "mlir/IR/Operation.h"
#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlg {

struct OpCost {
  double flops = 0;
  double bytes = 0;
  /// Its FLOPs are matrix products (CostOpInterface).
  bool matrix = false;
  /// A view or constant: no kernel runs.
  bool free = false;
};

/// The op's FLOPs and bytes moved (see the file comment).
OpCost estimateCost(mlir::Operation *op);

/// The ONNX node an op came from (its NameLoc, possibly inside a FusedLoc),
/// or "": what programs and profiles name a step by.
std::string nodeName(mlir::Location loc);

/// A device's throughputs and, optionally, measured step times.
struct DeviceProfile {
  std::string name;
  /// FLOP/s of convolutions (and their gradients), of the other matrix
  /// products, of other arithmetic, and bytes/s of device memory.
  double convFlops = 0, matrixFlops = 0, vectorFlops = 0, bandwidth = 0;
  /// Seconds a kernel launch adds.
  double launchSeconds = 0;
  /// Measured seconds by "kernel|node" (the mean where several steps share
  /// them, as an LSTM's cells do).
  llvm::StringMap<double> measured;

  /// An NVIDIA H200: its device-memory bandwidth as measured in
  /// ../shared/baselines/h200-pytorch.json (4157 GB/s read+write), the
  /// rates mlg's CUDA backend reached on an H100 (the same compute):
  /// convolutions 94 TFLOP/s (cuDNN, TF32), other matrix products 49
  /// (cuBLAS, FP32); the data sheet's FP32 66.9 TFLOP/s for the rest; 2 us
  /// a launch.
  static DeviceProfile h200();
  /// The H200's throughputs with the step times of an `mlg-run --profile`
  /// JSON file (see mlg_rt's Session::profileJson), or an error message.
  static mlir::FailureOr<DeviceProfile> fromProfileFile(llvm::StringRef path,
                                                        std::string *error);

  /// Seconds the op takes: measured where known, else the roofline.
  double seconds(mlir::Operation *op) const;
  /// Whether `seconds` uses a measured time for the op.
  bool isMeasured(mlir::Operation *op) const;
};

} // namespace mlg

#endif // MLG_PASSES_ANALYSIS_COSTMODEL_H
