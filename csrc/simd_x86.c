/* x86 micro-kernels, compiled for their instruction sets with target
 * attributes (the rest of the library stays baseline x86-64) and chosen at
 * run time by pynn_cpu_has().  Each computes one MR x NR tile of C:
 *
 *   C (6 x NR, row stride ldc) = [C +] Ap·Bp over k
 *   Ap: k columns of 6 values (packed A); Bp: k rows of NR values, ldb apart
 *   (NR in a packed panel, the row stride of B when read in place)
 *
 * NR is 16 (AVX2, float), 8 (AVX2, double), 32 (AVX-512, float) and 16
 * (AVX-512, double): two vector registers per row, twelve accumulators.
 * gemm.inc's portable kernel is the reference they are tested against.
 */
#include "common.h"

#if PYNN_X86
#include <immintrin.h>

int pynn_cpu_has(int32_t simd)
{
    switch (simd) {
    case PYNN_SIMD_PORTABLE: return 1;
    case PYNN_SIMD_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case PYNN_SIMD_AVX512: return __builtin_cpu_supports("avx512f");
    default: return 0;
    }
}

/* One kernel body for each (vector type, width): 6 rows x 2 vectors. */
#define PYNN_KERNEL_BODY(VEC, LOAD, STORE, BCAST, FMA, ADD, ZERO, W, REAL)                 \
    for (size_t r = 0; r < 6; r++) {  /* start fetching the C tile now, use it last */       \
        _mm_prefetch((const char *)(C + r * ldc), _MM_HINT_T0);                            \
        _mm_prefetch((const char *)(C + r * ldc + 2 * W - 1), _MM_HINT_T0);                \
    }                                                                                      \
    VEC c00 = ZERO(), c01 = ZERO(), c10 = ZERO(), c11 = ZERO(), c20 = ZERO(), c21 = ZERO(), \
        c30 = ZERO(), c31 = ZERO(), c40 = ZERO(), c41 = ZERO(), c50 = ZERO(), c51 = ZERO(); \
    for (size_t p = 0; p < k; p++) {                                                       \
        const VEC b0 = LOAD(Bp), b1 = LOAD(Bp + W);                                        \
        VEC a;                                                                             \
        a = BCAST(Ap + 0); c00 = FMA(a, b0, c00); c01 = FMA(a, b1, c01);                  \
        a = BCAST(Ap + 1); c10 = FMA(a, b0, c10); c11 = FMA(a, b1, c11);                  \
        a = BCAST(Ap + 2); c20 = FMA(a, b0, c20); c21 = FMA(a, b1, c21);                  \
        a = BCAST(Ap + 3); c30 = FMA(a, b0, c30); c31 = FMA(a, b1, c31);                  \
        a = BCAST(Ap + 4); c40 = FMA(a, b0, c40); c41 = FMA(a, b1, c41);                  \
        a = BCAST(Ap + 5); c50 = FMA(a, b0, c50); c51 = FMA(a, b1, c51);                  \
        Ap += 6;                                                                           \
        Bp += ldb;                                                                         \
    }                                                                                      \
    VEC rows[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};           \
    for (size_t r = 0; r < 6; r++) {                                                       \
        REAL *c = C + r * ldc;                                                             \
        if (accumulate) {                                                                  \
            STORE(c, ADD(LOAD(c), rows[2 * r]));                                           \
            STORE(c + W, ADD(LOAD(c + W), rows[2 * r + 1]));                               \
        } else {                                                                           \
            STORE(c, rows[2 * r]);                                                         \
            STORE(c + W, rows[2 * r + 1]);                                                 \
        }                                                                                  \
    }

__attribute__((target("avx2,fma")))
void pynn_kernel_avx2_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_broadcast_ss, _mm256_fmadd_ps,
                     _mm256_add_ps, _mm256_setzero_ps, 8, float)
}

__attribute__((target("avx2,fma")))
void pynn_kernel_avx2_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_broadcast_sd, _mm256_fmadd_pd,
                     _mm256_add_pd, _mm256_setzero_pd, 4, double)
}

__attribute__((target("avx512f")))
static __m512 pynn_bcast512_f32(const float *p) { return _mm512_set1_ps(*p); }

__attribute__((target("avx512f")))
static __m512d pynn_bcast512_f64(const double *p) { return _mm512_set1_pd(*p); }

__attribute__((target("avx512f")))
void pynn_kernel_avx512_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m512, _mm512_loadu_ps, _mm512_storeu_ps, pynn_bcast512_f32, _mm512_fmadd_ps,
                     _mm512_add_ps, _mm512_setzero_ps, 16, float)
}

__attribute__((target("avx512f")))
void pynn_kernel_avx512_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m512d, _mm512_loadu_pd, _mm512_storeu_pd, pynn_bcast512_f64, _mm512_fmadd_pd,
                     _mm512_add_pd, _mm512_setzero_pd, 8, double)
}

#else  /* not x86: only the portable kernels exist */

int pynn_cpu_has(int32_t simd)
{
    return simd == PYNN_SIMD_PORTABLE;
}

#endif

int32_t pynn_simd_available(int32_t simd)
{
    return simd == PYNN_SIMD_AUTO ? 1 : pynn_cpu_has(simd);
}
