//===- CostModel.cpp - per-op FLOPs, bytes and predicted time -------------===//

#include "mlg/Passes/Analysis/CostModel.h"

#include "mlg/Dialect/MLG/MLGOps.h"
#include "mlg/Dialect/MLG/ShapeUtils.h"

#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>

using namespace mlir;
using namespace mlg;

static double bytesOf(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  return shaped ? double(checkedByteSize(shaped).value_or(0)) : 0;
}

OpCost mlg::estimateCost(Operation *op) {
  OpCost cost;
  if (isa<ReshapeOp, ConstantOp, ml_program::GlobalLoadOp,
          ml_program::GlobalLoadConstOp, ml_program::GlobalStoreOp>(op) ||
      op->hasTrait<OpTrait::IsTerminator>()) {
    cost.free = true;
    return cost;
  }
  for (Value v : op->getOperands())
    cost.bytes += bytesOf(v.getType());
  for (Value v : op->getResults())
    cost.bytes += bytesOf(v.getType());
  if (auto costly = dyn_cast<CostOpInterface>(op)) {
    cost.flops = costly.getFlops();
    cost.matrix = true;
    return cost;
  }
  for (Value v : op->getResults())
    if (auto shaped = dyn_cast<RankedTensorType>(v.getType());
        shaped && shaped.hasStaticShape())
      cost.flops += double(shaped.getNumElements());
  return cost;
}

std::string mlg::nodeName(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc);
      fused && !fused.getLocations().empty())
    loc = fused.getLocations().front();
  if (auto name = dyn_cast<NameLoc>(loc))
    return name.getName().str();
  return "";
}

/// "kernel|node", the key of measured times: the op's name without the
/// dialect (the runtime's kernel name) and its node.
static std::string measureKey(Operation *op) {
  return op->getName().stripDialect().str() + "|" + nodeName(op->getLoc());
}

DeviceProfile DeviceProfile::h200() {
  DeviceProfile p;
  p.name = "NVIDIA H200 (defaults)";
  // Effective rates of mlg's CUDA backend, measured on an H100 (the H200's
  // compute is the same; 2026-12-05, bench/gpu/compare_pytorch.py, kernel
  // times over the compiler's FLOPs): cuDNN's TF32 convolutions, ResNet-50
  // at batch 128 (3.11 TFLOP forward and backward in 33.2 ms); cuBLAS's
  // FP32 products, BERT-base at 32 x 512 (11.58 TFLOP in 236.5 ms). The
  // data sheet's 494.7 TFLOP/s (TF32) was five times too fast, and plans
  // recomputed convolutions as if they were nearly free.
  p.convFlops = 94e12;
  p.matrixFlops = 49e12;
  p.vectorFlops = 66.9e12;
  p.bandwidth = 4157.4e9;
  p.launchSeconds = 2e-6;
  return p;
}

FailureOr<DeviceProfile> DeviceProfile::fromProfileFile(StringRef path,
                                                        std::string *error) {
  auto fail = [&](const Twine &why) -> FailureOr<DeviceProfile> {
    *error = ("profile '" + path + "': " + why).str();
    return failure();
  };
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return fail(buffer.getError().message());
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return fail(llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Array *steps = root ? root->getArray("steps") : nullptr;
  if (!steps)
    return fail("no \"steps\" list (write one with mlg-run --profile)");
  DeviceProfile p = h200();
  if (auto device = root->getString("device"))
    p.name = device->str();
  llvm::StringMap<std::pair<double, int>> sums;
  for (const llvm::json::Value &v : *steps) {
    const llvm::json::Object *step = v.getAsObject();
    std::optional<StringRef> kernel = step ? step->getString("kernel") : std::nullopt;
    std::optional<StringRef> name = step ? step->getString("name") : std::nullopt;
    std::optional<double> ms = step ? step->getNumber("ms") : std::nullopt;
    if (!kernel || !name || !ms || !(*ms >= 0))
      return fail("a step lacks its kernel, name or a non-negative ms");
    auto &[sum, count] = sums[(*kernel + "|" + *name).str()];
    sum += *ms / 1e3;
    ++count;
  }
  for (auto &entry : sums)
    p.measured[entry.getKey()] = entry.second.first / entry.second.second;
  return p;
}

bool DeviceProfile::isMeasured(Operation *op) const {
  return !nodeName(op->getLoc()).empty() && measured.count(measureKey(op));
}

double DeviceProfile::seconds(Operation *op) const {
  OpCost cost = estimateCost(op);
  if (cost.free)
    return 0;
  if (isMeasured(op))
    return measured.lookup(measureKey(op));
  bool conv = isa<ConvOp, ConvBackwardDataOp, ConvBackwardFilterOp>(op);
  double throughput = !cost.matrix ? vectorFlops
                      : conv       ? convFlops
                                   : matrixFlops;
  return std::max(cost.flops / throughput, cost.bytes / bandwidth) +
         launchSeconds;
}
