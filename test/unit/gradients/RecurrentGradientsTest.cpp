// RecurrentGradientsTest.cpp - gradients of the recurrent ops against finite
// differences (GradientCheck.h).

#include "GradientCheck.h"
