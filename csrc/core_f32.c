/* The float32 core: every *.inc kernel compiled with real = float. */
#include <math.h>
#include "pynn.h"
#include "common.h"

typedef float real;
#define FN(name) name##_f32
#define R_EXP expf
#define R_LOG1P log1pf
#define R_TANH tanhf
#define R_ERF erff
#define R_SQRT sqrtf
#define R_FABS fabsf

#include "activations.inc"
#include "dense.inc"
#include "losses.inc"
#include "optimizers.inc"
#include "network.inc"
