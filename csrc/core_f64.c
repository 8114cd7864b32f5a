/* The float64 core: every *.inc kernel compiled with real = double. */
#include <math.h>
#include <string.h>
#include "pynn.h"
#include "common.h"

typedef double real;
#define FN(name) name##_f64
#define R_EXP exp
#define R_LOG1P log1p
#define R_TANH tanh
#define R_ERF erf
#define R_SQRT sqrt
/* the bits of a real, and its exponent field (all ones: NaN or infinity) */
typedef uint64_t real_bits;
#define R_EXPONENT_MASK ((uint64_t)0x7ff0000000000000u)
#define R_FABS fabs

/* blocking of the products (gemm.inc): KC x NC of packed B sits in L2/L3,
 * MC x KC of packed A in L2; NC is a multiple of every kernel's NR */
#define GEMM_KC 256
#define GEMM_MC 72
#define GEMM_NC 1024
#define PORTABLE_NR 8
#define AVX2_NR 8
#define AVX512_NR 16

#include "activations.inc"
#include "dropout.inc"
#include "gemm.inc"
#include "dense.inc"
#include "losses.inc"
#include "optimizers.inc"
#include "network.inc"
#include "lbfgs.inc"
