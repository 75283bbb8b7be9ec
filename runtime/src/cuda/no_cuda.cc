// no_cuda.cc - createCudaDevice in a build without the CUDA Toolkit.

#include "../device.h"

namespace mlg_rt {

Status createCudaDevice(const CudaOptions &, std::unique_ptr<Device> *) {
  return Status::error("this mlg runtime was built without CUDA (the CUDA "
                       "Toolkit and cuDNN were not found at build time)");
}

} // namespace mlg_rt
