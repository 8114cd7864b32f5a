/* The float64 core: every *.inc kernel compiled with real = double. */
#include <math.h>
#include "pynn.h"
#include "common.h"

typedef double real;
#define FN(name) name##_f64
#define R_EXP exp
#define R_LOG1P log1p
#define R_TANH tanh
#define R_ERF erf
#define R_SQRT sqrt
#define R_FABS fabs

#include "activations.inc"
#include "dense.inc"
#include "losses.inc"
#include "optimizers.inc"
#include "network.inc"
