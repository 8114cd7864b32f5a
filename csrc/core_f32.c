/* The float32 core: every *.inc kernel compiled with real = float. */
#include <math.h>
#include <string.h>
#include "pynn.h"
#include "common.h"

typedef float real;
#define FN(name) name##_f32
#define R_EXP expf
#define R_LOG1P log1pf
#define R_TANH tanhf
#define R_ERF erff
#define R_SQRT sqrtf
/* the bits of a real, and its exponent field (all ones: NaN or infinity) */
typedef uint32_t real_bits;
#define R_EXPONENT_MASK ((uint32_t)0x7f800000u)
#define R_FABS fabsf

/* blocking of the products (gemm.inc): KC x NC of packed B sits in L2/L3,
 * MC x KC of packed A in L2; NC is a multiple of every kernel's NR */
#define GEMM_KC 256
#define GEMM_MC 144
#define GEMM_NC 2048
#define PORTABLE_NR 16
#define AVX2_NR 16
#define AVX512_NR 32

#include "activations.inc"
#include "dropout.inc"
#include "gemm.inc"
#include "dense.inc"
#include "losses.inc"
#include "optimizers.inc"
#include "network.inc"
#include "lbfgs.inc"
