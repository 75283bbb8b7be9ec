// TensorKernelsTest.cpp - (to be written)
#include "KernelTestUtil.h"
#include <gtest/gtest.h>
