/* x86 micro-kernels, compiled for their instruction sets with target
 * attributes on GCC and clang (MSVC needs none; the rest of the library stays
 * baseline x86-64) and chosen at run time by pynn_cpu_has().  Each computes one MR x NR tile of C:
 *
 *   C (MR x NR, row stride ldc) = [C +] Ap·Bp over k
 *   Ap: k columns of MR values (packed A); Bp: k rows of NR values, ldb apart
 *   (NR in a packed panel, the row stride of B when read in place)
 *
 * NR is 16 (AVX2, float), 8 (AVX2, double), 32 (AVX-512, float) and 16
 * (AVX-512, double): two vector registers per row, MR = 6 rows, twelve
 * accumulators (see the AVX-512 kernels for why not more).
 * gemm.inc's portable kernel is the reference they are tested against.
 */
#include "common.h"

#if PYNN_X86
#if defined(_MSC_VER)
#include <intrin.h>      /* __cpuidex */
#endif
#include <immintrin.h>   /* the AVX intrinsics; _xgetbv on MSVC */

#if defined(_MSC_VER) || defined(PYNN_FORCE_CPUID)
#if defined(_MSC_VER)
static void pynn_cpuid(int r[4], int leaf) { __cpuidex(r, leaf, 0); }
static uint64_t pynn_xcr0(void) { return (uint64_t)_xgetbv(0); }
#else
/* PYNN_FORCE_CPUID: this MSVC path built by GCC or clang, so that the
 * platform checks (.ci/platforms) can compare it with __builtin_cpu_supports */
#include <cpuid.h>
static void pynn_cpuid(int r[4], int leaf)
{
    unsigned a, b, c, d;
    __cpuid_count((unsigned)leaf, 0u, a, b, c, d);
    r[0] = (int)a; r[1] = (int)b; r[2] = (int)c; r[3] = (int)d;
}
static uint64_t pynn_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0u));
    return ((uint64_t)hi << 32) | lo;
}
#endif
/* MSVC (and clang-cl) have no __builtin_cpu_supports: ask CPUID, and XGETBV
 * whether the operating system saves the vector registers on a context
 * switch (else AVX instructions fault even on a CPU that has them).  Bits
 * from Intel's SDM, vol. 2A (CPUID) and vol. 1, ch. 13 (XCR0). */
static int pynn_x86_has(int32_t simd)
{
    int r[4];
    uint64_t xcr0;
    pynn_cpuid(r, 0);
    if (r[0] < 7) return 0;                                       /* no leaf 7: no AVX2 */
    pynn_cpuid(r, 1);
    if (!(r[2] & (1 << 27)) || !(r[2] & (1 << 28))) return 0;     /* ECX: OSXSAVE, AVX */
    const int has_fma = (r[2] >> 12) & 1;                         /* ECX bit 12: FMA */
    xcr0 = pynn_xcr0();
    if ((xcr0 & 0x6) != 0x6) return 0;                            /* XMM and YMM state */
    pynn_cpuid(r, 7);
    if (simd == PYNN_SIMD_AVX2) return has_fma && ((r[1] >> 5) & 1);  /* EBX bit 5: AVX2 */
    if (simd == PYNN_SIMD_AVX512)                                 /* EBX bit 16: AVX-512F; */
        return ((r[1] >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;       /* opmask, ZMM state */
    return 0;
}
#else
static int pynn_x86_has(int32_t simd)
{
    if (simd == PYNN_SIMD_AVX2) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (simd == PYNN_SIMD_AVX512) return __builtin_cpu_supports("avx512f") != 0;
    return 0;
}
#endif

int pynn_cpu_has(int32_t simd)
{
    switch (simd) {
    case PYNN_SIMD_PORTABLE: return 1;
    case PYNN_SIMD_AVX2:
    case PYNN_SIMD_AVX512: return pynn_x86_has(simd) ? 1 : 0;  /* 1, never a feature mask */
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

PYNN_TARGET("avx2,fma")
void pynn_kernel_avx2_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m256, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_broadcast_ss, _mm256_fmadd_ps,
                     _mm256_add_ps, _mm256_setzero_ps, 8, float)
}

PYNN_TARGET("avx2,fma")
void pynn_kernel_avx2_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m256d, _mm256_loadu_pd, _mm256_storeu_pd, _mm256_broadcast_sd, _mm256_fmadd_pd,
                     _mm256_add_pd, _mm256_setzero_pd, 4, double)
}

/* AVX-512 keeps the 6-row tile: on the AVX-512 machine measured (AMD EPYC,
 * Zen 5) it runs the 2048^3 product at ~235 GFLOP/s on one core, at the
 * FMA units' limit; a 12 x 32 tile (24 accumulators) measured the same or
 * a little slower (227-232), so it was not kept. */
#define PYNN_BCAST512_PS(p) _mm512_set1_ps(*(p))
#define PYNN_BCAST512_PD(p) _mm512_set1_pd(*(p))

PYNN_TARGET("avx512f")
void pynn_kernel_avx512_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m512, _mm512_loadu_ps, _mm512_storeu_ps, PYNN_BCAST512_PS, _mm512_fmadd_ps,
                     _mm512_add_ps, _mm512_setzero_ps, 16, float)
}

PYNN_TARGET("avx512f")
void pynn_kernel_avx512_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate)
{
    PYNN_KERNEL_BODY(__m512d, _mm512_loadu_pd, _mm512_storeu_pd, PYNN_BCAST512_PD, _mm512_fmadd_pd,
                     _mm512_add_pd, _mm512_setzero_pd, 8, double)
}

/* ---- packing a transposed B (gemm.inc's pack_b, for dZ·Wᵀ) ----
 *
 *   dst (kc x nr panel, rows nr apart)[p][c] = src[c*ld + p] for c < cols,
 *   0 for cols <= c < nr
 *
 * i.e. columns of W (its rows, contiguous along p) become the rows of the
 * panel.  8 x 8 (float) and 4 x 4 (double) register transposes where whole
 * blocks fit, plain copies for the ragged rest: a copy, so exactly the
 * panel gemm.inc's scalar loop writes (its reference). */

/* The part of a pack_bt the register transposes leave: rows p >= p_full of
 * the first c_full columns, every row of columns [c_full, cols), and the
 * zero padding of columns [cols, nr). */
#define PYNN_PACK_BT_REST(dst, src, ld, kc, cols, nr, c_full, p_full)                                  \
    for (size_t p = 0; p < (kc); p++) {                                                              \
        for (size_t c = p < (p_full) ? (c_full) : 0; c < (cols); c++) (dst)[p * (nr) + c] = (src)[c * (ld) + p]; \
        for (size_t c = (cols); c < (nr); c++) (dst)[p * (nr) + c] = 0;                              \
    }

PYNN_TARGET("avx2")
void pynn_pack_bt_avx2_f32(float *dst, const float *src, size_t ld, size_t kc, size_t cols, size_t nr)
{
    const size_t c8 = cols / 8 * 8, p8 = kc / 8 * 8;
    for (size_t c0 = 0; c0 < c8; c0 += 8) {
        const float *s = src + c0 * ld;
        for (size_t p0 = 0; p0 < p8; p0 += 8) {
            const __m256 r0 = _mm256_loadu_ps(s + 0 * ld + p0), r1 = _mm256_loadu_ps(s + 1 * ld + p0);
            const __m256 r2 = _mm256_loadu_ps(s + 2 * ld + p0), r3 = _mm256_loadu_ps(s + 3 * ld + p0);
            const __m256 r4 = _mm256_loadu_ps(s + 4 * ld + p0), r5 = _mm256_loadu_ps(s + 5 * ld + p0);
            const __m256 r6 = _mm256_loadu_ps(s + 6 * ld + p0), r7 = _mm256_loadu_ps(s + 7 * ld + p0);
            const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
            const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
            const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
            const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
            const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
            const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
            const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
            const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
            float *d = dst + p0 * nr + c0;
            _mm256_storeu_ps(d + 0 * nr, _mm256_permute2f128_ps(u0, u4, 0x20));
            _mm256_storeu_ps(d + 1 * nr, _mm256_permute2f128_ps(u1, u5, 0x20));
            _mm256_storeu_ps(d + 2 * nr, _mm256_permute2f128_ps(u2, u6, 0x20));
            _mm256_storeu_ps(d + 3 * nr, _mm256_permute2f128_ps(u3, u7, 0x20));
            _mm256_storeu_ps(d + 4 * nr, _mm256_permute2f128_ps(u0, u4, 0x31));
            _mm256_storeu_ps(d + 5 * nr, _mm256_permute2f128_ps(u1, u5, 0x31));
            _mm256_storeu_ps(d + 6 * nr, _mm256_permute2f128_ps(u2, u6, 0x31));
            _mm256_storeu_ps(d + 7 * nr, _mm256_permute2f128_ps(u3, u7, 0x31));
        }
    }
    PYNN_PACK_BT_REST(dst, src, ld, kc, cols, nr, c8, p8)
}

PYNN_TARGET("avx2")
void pynn_pack_bt_avx2_f64(double *dst, const double *src, size_t ld, size_t kc, size_t cols, size_t nr)
{
    const size_t c4 = cols / 4 * 4, p4 = kc / 4 * 4;
    for (size_t c0 = 0; c0 < c4; c0 += 4) {
        const double *s = src + c0 * ld;
        for (size_t p0 = 0; p0 < p4; p0 += 4) {
            const __m256d r0 = _mm256_loadu_pd(s + 0 * ld + p0), r1 = _mm256_loadu_pd(s + 1 * ld + p0);
            const __m256d r2 = _mm256_loadu_pd(s + 2 * ld + p0), r3 = _mm256_loadu_pd(s + 3 * ld + p0);
            const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
            const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
            double *d = dst + p0 * nr + c0;
            _mm256_storeu_pd(d + 0 * nr, _mm256_permute2f128_pd(t0, t2, 0x20));
            _mm256_storeu_pd(d + 1 * nr, _mm256_permute2f128_pd(t1, t3, 0x20));
            _mm256_storeu_pd(d + 2 * nr, _mm256_permute2f128_pd(t0, t2, 0x31));
            _mm256_storeu_pd(d + 3 * nr, _mm256_permute2f128_pd(t1, t3, 0x31));
        }
    }
    PYNN_PACK_BT_REST(dst, src, ld, kc, cols, nr, c4, p4)
}

/* ---- small products read in place (gemm.inc's small path) ----
 *
 *   C (M x N, row stride ldc) = A·B over K, A[i,p] = A[i*rsa + p*csa]
 *   (any strides: X, or Xᵀ for dW), B[p,j] = B[p*ldb + j] (row-major)
 *
 * No packing: tiles of MR rows x NV vectors, sized from N (NV = the vectors
 * N needs, at most 4 for AVX-512 and 2 for AVX2; MR as many rows as the
 * registers hold), the last vector of a row masked to N's edge (loads and
 * stores never touch memory beyond it).  Every element of C is one chain of
 * fused multiply-adds over p = 0..K-1 from zero, whatever tile or thread
 * computes it, so the tiling never changes a result.  gemm.inc's
 * small_portable (the reference loops' order, without fusion) is the
 * reference these are tested against. */

/* One tile: MR rows x NV vectors of W lanes; the last vector is loaded and
 * stored through mask `last`.  MR (<= 8) and NV (<= 4) are constants where
 * this expands: the accumulators are named variables (an array of vectors
 * is not always kept in registers), the unused ones optimised away. */
#define PYNN_SB(v, NV, VEC, LOAD, LOADM, W)                                                              \
    if ((NV) == (v) + 1) b##v = LOADM(bp_ + (v) * (W), last);                                           \
    else if ((NV) > (v) + 1) b##v = LOAD(bp_ + (v) * (W));
#define PYNN_SROW(r, MR, NV, SET1, FMA)                                                                  \
    if ((r) < (MR)) {                                                                                    \
        a_ = SET1(ap_[(r) * rsa]);                                                                       \
        c##r##0 = FMA(a_, b0, c##r##0);                                                                  \
        if ((NV) > 1) c##r##1 = FMA(a_, b1, c##r##1);                                                    \
        if ((NV) > 2) c##r##2 = FMA(a_, b2, c##r##2);                                                    \
        if ((NV) > 3) c##r##3 = FMA(a_, b3, c##r##3);                                                    \
    }
#define PYNN_SST1(r, v, NV, STORE, STOREM, W)                                                            \
    if ((NV) == (v) + 1) STOREM(C + (r) * ldc + (v) * (W), last, c##r##v);                               \
    else if ((NV) > (v) + 1) STORE(C + (r) * ldc + (v) * (W), c##r##v);
#define PYNN_SSTORE(r, MR, NV, STORE, STOREM, W)                                                         \
    if ((r) < (MR)) {                                                                                    \
        PYNN_SST1(r, 0, NV, STORE, STOREM, W) PYNN_SST1(r, 1, NV, STORE, STOREM, W)                      \
        PYNN_SST1(r, 2, NV, STORE, STOREM, W) PYNN_SST1(r, 3, NV, STORE, STOREM, W)                      \
    }
#define PYNN_SZ4(r, ZERO) c##r##0 = ZERO(), c##r##1 = ZERO(), c##r##2 = ZERO(), c##r##3 = ZERO()
#define PYNN_SMALL_TILE(MR, NV, REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W)                \
    do {                                                                                               \
        VEC PYNN_SZ4(0, ZERO), PYNN_SZ4(1, ZERO), PYNN_SZ4(2, ZERO), PYNN_SZ4(3, ZERO),                 \
            PYNN_SZ4(4, ZERO), PYNN_SZ4(5, ZERO), PYNN_SZ4(6, ZERO), PYNN_SZ4(7, ZERO);                 \
        for (size_t p_ = 0; p_ < K; p_++) {                                                            \
            const REAL *bp_ = B + p_ * ldb, *ap_ = A + p_ * csa;                                       \
            VEC a_, b0 = ZERO(), b1 = ZERO(), b2 = ZERO(), b3 = ZERO();                                \
            PYNN_SB(0, NV, VEC, LOAD, LOADM, W) PYNN_SB(1, NV, VEC, LOAD, LOADM, W)                    \
            PYNN_SB(2, NV, VEC, LOAD, LOADM, W) PYNN_SB(3, NV, VEC, LOAD, LOADM, W)                    \
            PYNN_SROW(0, MR, NV, SET1, FMA) PYNN_SROW(1, MR, NV, SET1, FMA)                            \
            PYNN_SROW(2, MR, NV, SET1, FMA) PYNN_SROW(3, MR, NV, SET1, FMA)                            \
            PYNN_SROW(4, MR, NV, SET1, FMA) PYNN_SROW(5, MR, NV, SET1, FMA)                            \
            PYNN_SROW(6, MR, NV, SET1, FMA) PYNN_SROW(7, MR, NV, SET1, FMA)                            \
        }                                                                                              \
        PYNN_SSTORE(0, MR, NV, STORE, STOREM, W) PYNN_SSTORE(1, MR, NV, STORE, STOREM, W)              \
        PYNN_SSTORE(2, MR, NV, STORE, STOREM, W) PYNN_SSTORE(3, MR, NV, STORE, STOREM, W)              \
        PYNN_SSTORE(4, MR, NV, STORE, STOREM, W) PYNN_SSTORE(5, MR, NV, STORE, STOREM, W)              \
        PYNN_SSTORE(6, MR, NV, STORE, STOREM, W) PYNN_SSTORE(7, MR, NV, STORE, STOREM, W)              \
    } while (0)

/* The tiles of one kernel: a function per (MR, NV) through a switch, then
 * the loop over C.  mr_for(nv) gives the rows of a tile nv vectors wide. */
#define PYNN_SMALL_KERNEL(NAME, ISA, REAL, VEC, W, MAXNV, MR_FOR, MASK_T, MAKE_MASK, LOAD, STORE, LOADM, STOREM, \
                          SET1, FMA, ZERO)                                                                       \
    PYNN_TARGET(ISA) static void NAME##_tile(int mr, int nv, size_t K, const REAL *A, size_t rsa, size_t csa,    \
                                             const REAL *B, size_t ldb, REAL *C, size_t ldc, MASK_T last)        \
    {                                                                                                            \
        switch (mr * 8 + nv) {                                                                                   \
        PYNN_SMALL_CASES_NV(1, REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W)                        \
        PYNN_SMALL_CASES_NV(2, REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W)                        \
        PYNN_SMALL_CASES_NV_WIDE(REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W, MAXNV)               \
        default: break;                                                                                          \
        }                                                                                                        \
    }                                                                                                            \
    PYNN_TARGET(ISA)                                                                                             \
    void NAME(size_t M, size_t N, size_t K, const REAL *A, size_t rsa, size_t csa, const REAL *B, size_t ldb,     \
              REAL *C, size_t ldc)                                                                               \
    {                                                                                                            \
        const size_t vecs = (N + (W) - 1) / (W);                                                                 \
        const int NV = vecs < (MAXNV) ? (int)vecs : (MAXNV), MR = MR_FOR(NV);                                    \
        for (size_t j0 = 0; j0 < N; j0 += (size_t)NV * (W)) {                                                    \
            const size_t cols = N - j0 < (size_t)NV * (W) ? N - j0 : (size_t)NV * (W);                           \
            const int nv = (int)((cols + (W) - 1) / (W));                                                        \
            const MASK_T last = MAKE_MASK((int)(cols - (size_t)(nv - 1) * (W)));                                 \
            for (size_t i0 = 0; i0 < M; i0 += (size_t)MR) {                                                      \
                const int mr = M - i0 < (size_t)MR ? (int)(M - i0) : MR;                                         \
                NAME##_tile(mr, nv, K, A + i0 * rsa, rsa, csa, B + j0, ldb, C + i0 * ldc + j0, ldc, last);       \
            }                                                                                                    \
        }                                                                                                        \
    }

#define PYNN_SMALL_CASE(MR, NV, REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W) \
    case (MR) * 8 + (NV): PYNN_SMALL_TILE(MR, NV, REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W); break;
#define PYNN_SMALL_CASES_NV(NV, ...)                                                              \
    PYNN_SMALL_CASE(1, NV, __VA_ARGS__) PYNN_SMALL_CASE(2, NV, __VA_ARGS__)                       \
    PYNN_SMALL_CASE(3, NV, __VA_ARGS__) PYNN_SMALL_CASE(4, NV, __VA_ARGS__)                       \
    PYNN_SMALL_CASE(5, NV, __VA_ARGS__) PYNN_SMALL_CASE(6, NV, __VA_ARGS__)                       \
    PYNN_SMALL_CASE(7, NV, __VA_ARGS__) PYNN_SMALL_CASE(8, NV, __VA_ARGS__)
/* NV 3 (8 rows) and 4 (6 rows) for AVX-512 only: MAXNV 2 expands to nothing */
#define PYNN_SMALL_CASES_NV_WIDE(REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W, MAXNV) \
    PYNN_SMALL_WIDE_##MAXNV(REAL, VEC, LOAD, STORE, LOADM, STOREM, SET1, FMA, ZERO, W)
#define PYNN_SMALL_WIDE_2(...)
#define PYNN_SMALL_WIDE_4(...)                                                                    \
    PYNN_SMALL_CASES_NV(3, __VA_ARGS__)                                                           \
    PYNN_SMALL_CASE(1, 4, __VA_ARGS__) PYNN_SMALL_CASE(2, 4, __VA_ARGS__)                         \
    PYNN_SMALL_CASE(3, 4, __VA_ARGS__) PYNN_SMALL_CASE(4, 4, __VA_ARGS__)                         \
    PYNN_SMALL_CASE(5, 4, __VA_ARGS__) PYNN_SMALL_CASE(6, 4, __VA_ARGS__)

/* rows per tile: accumulators (MR x NV) + NV vectors of B + one of A within
 * the register file (32 zmm; 16 ymm) */
#define PYNN_MR_512(nv) ((nv) == 4 ? 6 : 8)
#define PYNN_MR_256(nv) ((nv) == 2 ? 6 : 8)

/* AVX-512 masks: the low `n` lanes */
#define PYNN_MASK16(n) ((__mmask16)((1u << (n)) - 1u))
#define PYNN_MASK8(n) ((__mmask8)((1u << (n)) - 1u))
#define PYNN_LOADM512_PS(p, m) _mm512_maskz_loadu_ps(m, p)
#define PYNN_STOREM512_PS(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define PYNN_LOADM512_PD(p, m) _mm512_maskz_loadu_pd(m, p)
#define PYNN_STOREM512_PD(p, m, v) _mm512_mask_storeu_pd(p, m, v)
/* AVX2 masks: lanes whose index is below n have their sign bit set */
#define PYNN_MASK8X32(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define PYNN_MASK4X64(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define PYNN_LOADM256_PS(p, m) _mm256_maskload_ps(p, m)
#define PYNN_STOREM256_PS(p, m, v) _mm256_maskstore_ps(p, m, v)
#define PYNN_LOADM256_PD(p, m) _mm256_maskload_pd(p, m)
#define PYNN_STOREM256_PD(p, m, v) _mm256_maskstore_pd(p, m, v)

PYNN_SMALL_KERNEL(pynn_small_avx512_f32, "avx512f", float, __m512, 16, 4, PYNN_MR_512, __mmask16, PYNN_MASK16,
                  _mm512_loadu_ps, _mm512_storeu_ps, PYNN_LOADM512_PS, PYNN_STOREM512_PS, _mm512_set1_ps,
                  _mm512_fmadd_ps, _mm512_setzero_ps)
PYNN_SMALL_KERNEL(pynn_small_avx512_f64, "avx512f", double, __m512d, 8, 4, PYNN_MR_512, __mmask8, PYNN_MASK8,
                  _mm512_loadu_pd, _mm512_storeu_pd, PYNN_LOADM512_PD, PYNN_STOREM512_PD, _mm512_set1_pd,
                  _mm512_fmadd_pd, _mm512_setzero_pd)
PYNN_SMALL_KERNEL(pynn_small_avx2_f32, "avx2,fma", float, __m256, 8, 2, PYNN_MR_256, __m256i, PYNN_MASK8X32,
                  _mm256_loadu_ps, _mm256_storeu_ps, PYNN_LOADM256_PS, PYNN_STOREM256_PS, _mm256_set1_ps,
                  _mm256_fmadd_ps, _mm256_setzero_ps)
PYNN_SMALL_KERNEL(pynn_small_avx2_f64, "avx2,fma", double, __m256d, 4, 2, PYNN_MR_256, __m256i, PYNN_MASK4X64,
                  _mm256_loadu_pd, _mm256_storeu_pd, PYNN_LOADM256_PD, PYNN_STOREM256_PD, _mm256_set1_pd,
                  _mm256_fmadd_pd, _mm256_setzero_pd)

#elif !PYNN_NEON  /* neither x86 nor AArch64: only the portable kernels exist */

int pynn_cpu_has(int32_t simd)
{
    return simd == PYNN_SIMD_PORTABLE;
}

#endif  /* (AArch64's pynn_cpu_has is in simd_arm.c) */

int32_t pynn_simd_available(int32_t simd)
{
    return simd == PYNN_SIMD_AUTO ? 1 : (pynn_cpu_has(simd) ? 1 : 0);
}
