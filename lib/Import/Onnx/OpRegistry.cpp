//===- OpRegistry.cpp - ONNX operator importers by op type ----------------===//

#include "OpRegistry.h"

#include "llvm/ADT/STLExtras.h"

using namespace mlg::onnx_import;

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerTensorOps(r);
    registerNNOps(r);
    registerReductionOps(r);
    registerRecurrentOps(r);
    return r;
  }();
  return registry;
}

void OpRegistry::add(llvm::StringRef opType, OpImportFn fn,
                     int64_t sinceVersion) {
  entries[opType] = Entry{fn, sinceVersion};
}

OpImportFn OpRegistry::lookup(llvm::StringRef opType, int64_t opset) const {
  auto it = entries.find(opType);
  if (it == entries.end() || opset < it->second.sinceVersion)
    return nullptr;
  return it->second.fn;
}

std::vector<std::string> OpRegistry::names() const {
  std::vector<std::string> out;
  for (const auto &entry : entries)
    out.push_back(entry.getKey().str());
  llvm::sort(out);
  return out;
}
