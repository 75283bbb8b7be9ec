// TrainingKernelsTest.cpp - CPU kernels against direct references.

#include "KernelTestUtil.h"

#include <gtest/gtest.h>

using namespace mlg_rt;
using namespace mlg_rt::test;
