# Finds the CUDA Toolkit (/usr/local/cuda) and cuDNN. Sets MLG_HAVE_CUDA.
# CMake 3.25's FindCUDAToolkit has no cuDNN target, so cuDNN is found with
# find_library next to the toolkit's libraries.
if(NOT DEFINED CUDAToolkit_ROOT AND EXISTS /usr/local/cuda)
  set(CUDAToolkit_ROOT /usr/local/cuda)
endif()
find_package(CUDAToolkit QUIET)
set(MLG_HAVE_CUDA OFF)
if(CUDAToolkit_FOUND)
  find_library(MLG_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
  find_path(MLG_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  if(MLG_CUDNN_LIBRARY AND MLG_CUDNN_INCLUDE_DIR)
    set(MLG_HAVE_CUDA ON)
  endif()
endif()
message(STATUS "mlg: CUDA parts ${MLG_HAVE_CUDA} (toolkit ${CUDAToolkit_VERSION}, cuDNN ${MLG_CUDNN_LIBRARY})")
