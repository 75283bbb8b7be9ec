// TensorGradientsTest.cpp - gradients of the tensor ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"
