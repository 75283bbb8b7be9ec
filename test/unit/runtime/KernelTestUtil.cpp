// KernelTestUtil.cpp - running one CPU kernel in a unit test.

#include "KernelTestUtil.h"

namespace mlg_rt::test {

KernelHarness::KernelHarness(std::string kernel) : kernel_(std::move(kernel)) {
  step_.kernel = kernel_;
  step_.name = "test";
}

void KernelHarness::addTensor(DType dtype, std::vector<int64_t> shape,
                              bool isInput) {
  Buffer b;
  b.dtype = dtype;
  b.shape = std::move(shape);
  b.numel = 1;
  for (int64_t d : b.shape)
    b.numel *= d;
  b.data.reset(
      new uint8_t[std::max<int64_t>(b.numel * dtypeBytes(dtype), 1)]());
  (isInput ? inputs_ : outputs_).push_back(buffers_.size());
  buffers_.push_back(std::move(b));
}

void KernelHarness::workspace(uint64_t bytes) {
  workspaceBytes_ = bytes;
  workspace_.reset(new uint8_t[std::max<uint64_t>(bytes, 1)]());
}

void KernelHarness::store(DType dtype, uint8_t *data, int64_t i, double v) {
  switch (dtype) {
  case DType::F32: {
    float f = float(v);
    std::memcpy(data + 4 * i, &f, 4);
    return;
  }
  case DType::F64:
    std::memcpy(data + 8 * i, &v, 8);
    return;
  case DType::F16: {
    uint16_t h = floatToHalf(float(v));
    std::memcpy(data + 2 * i, &h, 2);
    return;
  }
  case DType::BF16: {
    uint16_t h = floatToBf16(float(v));
    std::memcpy(data + 2 * i, &h, 2);
    return;
  }
  default: {
    int64_t x = int64_t(v);
    std::memcpy(data + dtypeBytes(dtype) * i, &x, dtypeBytes(dtype));
  }
  }
}

cpu::KernelCall KernelHarness::makeCall(bool withData) {
  cpu::KernelCall call;
  call.step = &step_;
  call.options = &options_;
  for (size_t i : inputs_) {
    Buffer &b = buffers_[i];
    call.in.push_back(
        {b.dtype, &b.shape, b.numel, withData ? b.data.get() : nullptr});
  }
  for (size_t o = 0; o < outputs_.size(); ++o) {
    Buffer &b = buffers_[outputs_[o]];
    void *data = withData ? b.data.get() : nullptr;
    for (auto [out, in] : aliases_)
      if (out == o && withData)
        data = buffers_[inputs_[in]].data.get();
    call.out.push_back({b.dtype, &b.shape, b.numel, data});
  }
  call.workspace = withData ? workspace_.get() : nullptr;
  call.workspaceBytes = workspaceBytes_;
  return call;
}

Status KernelHarness::check() {
  const cpu::KernelDef *def = cpu::kernels().find(kernel_);
  if (!def)
    return Status::errorf("no kernel '", kernel_, "'");
  return def->check(makeCall(false));
}

Status KernelHarness::run(uint64_t runIndex) {
  MLG_RT_RETURN_IF_ERROR(check());
  cpu::KernelCall call = makeCall(true);
  call.runIndex = runIndex;
  MLG_RT_RETURN_IF_ERROR(cpu::kernels().find(kernel_)->run(call));
  // Aliased outputs live in the input's memory: copy them out for outputAs.
  for (auto [o, i] : aliases_) {
    Buffer &out = buffers_[outputs_[o]];
    std::memcpy(out.data.get(), buffers_[inputs_[i]].data.get(),
                out.numel * dtypeBytes(out.dtype));
  }
  return Status();
}

Status KernelHarness::runOn(Device &device, uint64_t runIndex) {
  MLG_RT_RETURN_IF_ERROR(check());
  // Device copies of every buffer (and the workspace), freed on return.
  std::vector<void *> onDevice(buffers_.size(), nullptr);
  void *workspace = nullptr;
  auto freeAll = [&] {
    for (void *d : onDevice)
      device.release(d);
    device.release(workspace);
  };
  Status s;
  for (size_t i = 0; i < buffers_.size() && s.ok(); ++i) {
    uint64_t bytes = buffers_[i].numel * dtypeBytes(buffers_[i].dtype);
    s = device.allocate(bytes, "a test tensor", &onDevice[i]);
    if (s.ok())
      s = device.copyToDevice(onDevice[i], buffers_[i].data.get(), bytes);
  }
  if (s.ok() && workspaceBytes_)
    s = device.allocate(workspaceBytes_, "a workspace", &workspace);
  Program program;
  program.steps.push_back(step_);
  program.steps.back().kernel = kernel_;
  cpu::KernelCall call = makeCall(false);
  if (s.ok())
    s = device.prepare(program, {call});
  if (s.ok()) {
    for (size_t k = 0; k < inputs_.size(); ++k)
      call.in[k].data = onDevice[inputs_[k]];
    for (size_t o = 0; o < outputs_.size(); ++o) {
      call.out[o].data = onDevice[outputs_[o]];
      for (auto [out, in] : aliases_)
        if (out == o)
          call.out[o].data = onDevice[inputs_[in]];
    }
    call.workspace = static_cast<uint8_t *>(workspace);
    call.runIndex = runIndex;
    s = device.runSteps(runIndex, false,
                        [&] { return device.runStep(0, call, false, nullptr); });
  }
  if (s.ok())
    s = device.synchronize();
  for (size_t o = 0; o < outputs_.size() && s.ok(); ++o) {
    Buffer &b = buffers_[outputs_[o]];
    s = device.copyToHost(b.data.get(), call.out[o].data,
                          b.numel * dtypeBytes(b.dtype));
  }
  freeAll();
  return s;
}

} // namespace mlg_rt::test
