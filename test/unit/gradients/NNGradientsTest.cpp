// NNGradientsTest.cpp - gradients of the nn ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"
