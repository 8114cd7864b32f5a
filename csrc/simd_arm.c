/* AArch64 NEON micro-kernels.  NEON (Advanced SIMD) is part of the AArch64
 * baseline -- every ARMv8-A CPU, Apple Silicon, Graviton, Windows on ARM --
 * so these need no target attribute and no run-time check.  Each computes
 * one MR x NR tile of C, exactly the interface of simd_x86.c's kernels and
 * of gemm.inc's portable kernel (the reference they are tested against):
 *
 *   C (6 x NR, row stride ldc) = [C +] Ap·Bp over k
 *   Ap: k columns of 6 values (packed A); Bp: k rows of NR values, ldb apart
 *   (NR in a packed panel, the row stride of B when read in place)
 *
 * NR is 16 (float: 4 x float32x4_t per row) and 8 (double: 4 x float64x2_t):
 * 24 accumulators + 4 vectors of B + the broadcast A value fit in NEON's 32
 * 128-bit registers.  Each accumulator sums Ap[p] * Bp[p] over p in order,
 * as the portable kernel does, but with a fused multiply-add (one rounding
 * per step instead of two), so results agree with it to rounding, not bit
 * for bit.  Standard ACLE intrinsics only; MSVC (arm64_neon.h) gets the
 * most basic of them (see PYNN_NEON_ROW).  Compiled and checked under
 * qemu-user with GCC here (.ci/platforms/cross); not compiled with MSVC or
 * clang, and its speed on real ARM hardware is not measured.
 */
#include "common.h"

#if PYNN_NEON
#include <arm_neon.h>

int pynn_cpu_has(int32_t simd)
{
    return simd == PYNN_SIMD_PORTABLE || simd == PYNN_SIMD_NEON;
}

/* Row r of the tile: its four accumulators += B's four vectors times A's
 * value for row r, a lane of the vector AV (read from Ap + r).  GCC and
 * clang: FMLA by element, so A's six values take two (float) or three
 * (double) registers and 24 accumulators + 4 of B + A fit in the 32 without
 * spilling.  MSVC: the same sums with A's value broadcast by a load, using
 * only the most basic intrinsics (FMA_DUP). */
#if defined(_MSC_VER) && !defined(__clang__)
#define PYNN_NEON_ROW(r, AV, LANE, FMA_LANE, FMA_DUP, DUP)    \
    do {                                                      \
        const VEC a_ = DUP(Ap + (r));                         \
        c##r##0 = FMA_DUP(c##r##0, b0, a_);                   \
        c##r##1 = FMA_DUP(c##r##1, b1, a_);                   \
        c##r##2 = FMA_DUP(c##r##2, b2, a_);                   \
        c##r##3 = FMA_DUP(c##r##3, b3, a_);                   \
    } while (0)
#else
#define PYNN_NEON_ROW(r, AV, LANE, FMA_LANE, FMA_DUP, DUP)    \
    do {                                                      \
        c##r##0 = FMA_LANE(c##r##0, b0, AV, LANE);            \
        c##r##1 = FMA_LANE(c##r##1, b1, AV, LANE);            \
        c##r##2 = FMA_LANE(c##r##2, b2, AV, LANE);            \
        c##r##3 = FMA_LANE(c##r##3, b3, AV, LANE);            \
    } while (0)
#endif

/* Row r of C from its accumulators: stored, or added to what is there. */
#define PYNN_NEON_STORE(r, LOAD, STORE, ADD)                                      \
    do {                                                                          \
        REAL *c = C + (r) * ldc;                                                  \
        if (accumulate) {                                                         \
            STORE(c, ADD(LOAD(c), c##r##0));                                      \
            STORE(c + W, ADD(LOAD(c + W), c##r##1));                              \
            STORE(c + 2 * W, ADD(LOAD(c + 2 * W), c##r##2));                      \
            STORE(c + 3 * W, ADD(LOAD(c + 3 * W), c##r##3));                      \
        } else {                                                                  \
            STORE(c, c##r##0);                                                    \
            STORE(c + W, c##r##1);                                                \
            STORE(c + 2 * W, c##r##2);                                            \
            STORE(c + 3 * W, c##r##3);                                            \
        }                                                                         \
    } while (0)

#define PYNN_NEON_ZERO_ACCUMULATORS(ZERO)                                                   \
    VEC c00 = ZERO, c01 = ZERO, c02 = ZERO, c03 = ZERO, c10 = ZERO, c11 = ZERO, c12 = ZERO, \
        c13 = ZERO, c20 = ZERO, c21 = ZERO, c22 = ZERO, c23 = ZERO, c30 = ZERO, c31 = ZERO, \
        c32 = ZERO, c33 = ZERO, c40 = ZERO, c41 = ZERO, c42 = ZERO, c43 = ZERO, c50 = ZERO, \
        c51 = ZERO, c52 = ZERO, c53 = ZERO

#define PYNN_NEON_STORE_ALL(LOAD, STORE, ADD)                                               \
    PYNN_NEON_STORE(0, LOAD, STORE, ADD);                                                   \
    PYNN_NEON_STORE(1, LOAD, STORE, ADD);                                                   \
    PYNN_NEON_STORE(2, LOAD, STORE, ADD);                                                   \
    PYNN_NEON_STORE(3, LOAD, STORE, ADD);                                                   \
    PYNN_NEON_STORE(4, LOAD, STORE, ADD);                                                   \
    PYNN_NEON_STORE(5, LOAD, STORE, ADD)

/* C (6 x 16 floats) = [C +] Ap (k x 6, packed) · Bp (k x 16, rows ldb apart). */
void pynn_kernel_neon_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate)
{
#define VEC float32x4_t
#define REAL float
#define W 4
    PYNN_NEON_ZERO_ACCUMULATORS(vdupq_n_f32(0.0f));
    for (size_t p = 0; p < k; p++) {
        const VEC b0 = vld1q_f32(Bp), b1 = vld1q_f32(Bp + 4), b2 = vld1q_f32(Bp + 8), b3 = vld1q_f32(Bp + 12);
        const float32x4_t a0123 = vld1q_f32(Ap);  /* rows 0-3 */
        const float32x2_t a45 = vld1_f32(Ap + 4); /* rows 4-5: no read past this column of A */
        (void)a0123; (void)a45;                   /* (unused on MSVC) */
        PYNN_NEON_ROW(0, a0123, 0, vfmaq_laneq_f32, vfmaq_f32, vld1q_dup_f32);
        PYNN_NEON_ROW(1, a0123, 1, vfmaq_laneq_f32, vfmaq_f32, vld1q_dup_f32);
        PYNN_NEON_ROW(2, a0123, 2, vfmaq_laneq_f32, vfmaq_f32, vld1q_dup_f32);
        PYNN_NEON_ROW(3, a0123, 3, vfmaq_laneq_f32, vfmaq_f32, vld1q_dup_f32);
        PYNN_NEON_ROW(4, a45, 0, vfmaq_lane_f32, vfmaq_f32, vld1q_dup_f32);
        PYNN_NEON_ROW(5, a45, 1, vfmaq_lane_f32, vfmaq_f32, vld1q_dup_f32);
        Ap += PYNN_MR;
        Bp += ldb;
    }
    PYNN_NEON_STORE_ALL(vld1q_f32, vst1q_f32, vaddq_f32);
#undef VEC
#undef REAL
#undef W
}

/* C (6 x 8 doubles) = [C +] Ap (k x 6, packed) · Bp (k x 8, rows ldb apart). */
void pynn_kernel_neon_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate)
{
#define VEC float64x2_t
#define REAL double
#define W 2
    PYNN_NEON_ZERO_ACCUMULATORS(vdupq_n_f64(0.0));
    for (size_t p = 0; p < k; p++) {
        const VEC b0 = vld1q_f64(Bp), b1 = vld1q_f64(Bp + 2), b2 = vld1q_f64(Bp + 4), b3 = vld1q_f64(Bp + 6);
        const float64x2_t a01 = vld1q_f64(Ap), a23 = vld1q_f64(Ap + 2), a45 = vld1q_f64(Ap + 4);
        (void)a01; (void)a23; (void)a45;
        PYNN_NEON_ROW(0, a01, 0, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        PYNN_NEON_ROW(1, a01, 1, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        PYNN_NEON_ROW(2, a23, 0, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        PYNN_NEON_ROW(3, a23, 1, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        PYNN_NEON_ROW(4, a45, 0, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        PYNN_NEON_ROW(5, a45, 1, vfmaq_laneq_f64, vfmaq_f64, vld1q_dup_f64);
        Ap += PYNN_MR;
        Bp += ldb;
    }
    PYNN_NEON_STORE_ALL(vld1q_f64, vst1q_f64, vaddq_f64);
#undef VEC
#undef REAL
#undef W
}

#else  /* not AArch64: nothing here (an empty file is not valid ISO C) */
typedef int pynn_simd_arm_unused;
#endif
