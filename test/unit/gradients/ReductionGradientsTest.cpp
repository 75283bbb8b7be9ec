// ReductionGradientsTest.cpp - gradients of the reduction ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"
