/* Helpers shared by both precisions: checked size arithmetic and the
 * precision-independent parts of the network layout.  Internal, not part of
 * the public API. */
#ifndef PYNN_COMMON_H
#define PYNN_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include "pynn.h"

/* *out = a * b for non-negative a, b; returns 0 on overflow of int64. */
static inline int pynn_mul_ok(int64_t a, int64_t b, int64_t *out)
{
    if (a < 0 || b < 0) return 0;
    if (a != 0 && b > INT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* *acc += a * b; returns 0 on overflow. */
static inline int pynn_muladd_ok(int64_t *acc, int64_t a, int64_t b)
{
    int64_t p;
    if (!pynn_mul_ok(a, b, &p) || *acc > INT64_MAX - p) return 0;
    *acc += p;
    return 1;
}

/* Checks the shape, codes and buffer pointers of a network and the batch
 * size (the workspace length is checked by the typed code, whose packing
 * space depends on the precision).  Returns PYNN_OK or an error code. */
int pynn_check_net(const pynn_net *net, int64_t batch);

/* Elements of workspace for activations and backward scratch (without
 * packing space) for a batch, or -1 on overflow. */
int64_t pynn_activation_workspace(const pynn_net *net, int64_t batch);

/* ---- portability: compilers and instruction sets ---- */

/* C99's `restrict`; MSVC's C compiler spells it __restrict. */
#if defined(_MSC_VER)
#define PYNN_RESTRICT __restrict
#else
#define PYNN_RESTRICT restrict
#endif

/* A function the compiler must not inline into its caller. */
#if defined(_MSC_VER)
#define PYNN_NOINLINE __declspec(noinline)
#elif defined(__GNUC__) || defined(__clang__)
#define PYNN_NOINLINE __attribute__((noinline))
#else
#define PYNN_NOINLINE
#endif

/* x86-64 or i386 with a compiler we know how to get AVX code from: GCC and
 * clang (target attributes, __builtin_cpu_supports) or MSVC x64 (intrinsics
 * usable in any function; CPUID by __cpuidex/_xgetbv).  ARM64EC also
 * defines _M_X64 but has no AVX. */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define PYNN_X86 1
#elif defined(_MSC_VER) && defined(_M_X64) && !defined(_M_ARM64EC)
#define PYNN_X86 1
#else
#define PYNN_X86 0
#endif

/* AArch64 (Linux, macOS, Windows on ARM): NEON is part of the baseline, so
 * its micro-kernels need no run-time check (simd_arm.c). */
#if defined(__aarch64__) || defined(_M_ARM64)
#define PYNN_NEON 1
#else
#define PYNN_NEON 0
#endif

/* Compile one function for an instruction set beyond the baseline (GCC and
 * clang); MSVC needs nothing: its intrinsics work in any function. */
#if defined(__GNUC__) || defined(__clang__)
#define PYNN_TARGET(isa) __attribute__((target(isa)))
#else
#define PYNN_TARGET(isa)
#endif

#if defined(_MSC_VER) && !defined(__clang__)
#define PYNN_ALIGN64 __declspec(align(64))
#elif defined(__GNUC__) || defined(__clang__)
#define PYNN_ALIGN64 __attribute__((aligned(64)))
#else
#define PYNN_ALIGN64
#endif

/* ---- blocked products (gemm.inc, simd_x86.c, simd_arm.c, threads.c) ---- */

#define PYNN_MR 6                          /* rows of every micro-kernel's tile (kernel_t.mr) */
#define PYNN_MAX_MR 6                      /* tallest tile */
#define PYNN_MAX_NR 32                     /* widest tile (AVX-512, float) */
#define PYNN_BLOCKED_MIN_WORK 64.0         /* M*N*K from which the SIMD products pay */
#define PYNN_SMALL_MAX_B_BYTES (1024 * 1024) /* the small path (no packing) while B fits in L2, */
#define PYNN_SMALL_MAX_A_BYTES (1024 * 1024) /*   and A too unless one column block covers N */
#define PYNN_SMALL_ONE_BLOCK 64              /*   (N up to this) */
#define PYNN_PARALLEL_MIN_WORK 1048576.0   /* M*N*K from which threads pay */
#define PYNN_CHECK_MAX_PARTS 64            /* parts of a product that check its values (gemm_run) */
#define PYNN_PARALLEL_MIN_UPDATE 65536     /* parameters from which the update uses threads */
#define PYNN_PARALLEL_MIN_DROPOUT 16384    /* elements from which a dropout mask uses threads */
#define PYNN_DIRECT_B_BYTES (256 * 1024)   /* a row-major B block up to this is read in place */

typedef void (*pynn_task_fn)(void *ctx, int32_t part, int32_t n_parts);

/* fn(ctx, part, n_parts) for every part, on the pool's threads (see threads.c). */
void pynn_pool_run(pynn_pool *pool, pynn_task_fn fn, void *ctx, int32_t n_parts);

/* 1 if this CPU runs the `simd` micro-kernels (PYNN_SIMD_PORTABLE always). */
int pynn_cpu_has(int32_t simd);

#if PYNN_X86
void pynn_kernel_avx2_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate);
void pynn_kernel_avx2_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate);
void pynn_kernel_avx512_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate);
void pynn_kernel_avx512_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate);
/* A panel of a transposed B: dst[p*nr + c] = src[c*ld + p] (c < cols, else 0). */
void pynn_pack_bt_avx2_f32(float *dst, const float *src, size_t ld, size_t kc, size_t cols, size_t nr);
void pynn_pack_bt_avx2_f64(double *dst, const double *src, size_t ld, size_t kc, size_t cols, size_t nr);
/* Small products read in place (no packing): C (M x N, ldc) = A·B over K,
 * A[i,p] = A[i*rsa + p*csa], B[p,j] = B[p*ldb + j]; see simd_x86.c. */
void pynn_small_avx2_f32(size_t M, size_t N, size_t K, const float *A, size_t rsa, size_t csa, const float *B,
                         size_t ldb, float *C, size_t ldc);
void pynn_small_avx2_f64(size_t M, size_t N, size_t K, const double *A, size_t rsa, size_t csa, const double *B,
                         size_t ldb, double *C, size_t ldc);
void pynn_small_avx512_f32(size_t M, size_t N, size_t K, const float *A, size_t rsa, size_t csa, const float *B,
                           size_t ldb, float *C, size_t ldc);
void pynn_small_avx512_f64(size_t M, size_t N, size_t K, const double *A, size_t rsa, size_t csa, const double *B,
                           size_t ldb, double *C, size_t ldc);
#endif

#if PYNN_NEON
/* NR = 16 (float) and 8 (double): the portable kernel's widths, so gemm.inc's
 * packing space already covers them. */
#define PYNN_NEON_NR_F32 16
#define PYNN_NEON_NR_F64 8
void pynn_kernel_neon_f32(size_t k, const float *Ap, const float *Bp, size_t ldb, float *C, size_t ldc, int accumulate);
void pynn_kernel_neon_f64(size_t k, const double *Ap, const double *Bp, size_t ldb, double *C, size_t ldc, int accumulate);
#endif

/* An activation code outside enum pynn_activation: dense_forward_any and
 * the product's epilogue add the bias and apply no activation (network.inc,
 * for a last layer whose output the loss does not read). */
#define PYNN_ACT_NONE (-1)

/* Index in `sizes` of the widest layer output (sizes[1..n_layers]). */
int64_t pynn_max_width(const pynn_net *net);

/* ---- dropout masks (dropout.inc; pynn/dropout.py computes the same) ---- */

/* 1 if layer l's input is dropped out in training. */
static inline int pynn_has_dropout(const pynn_net *net, int64_t l)
{
    return net->dropout != NULL && net->dropout[l] > 0;
}

#define PYNN_GOLDEN UINT64_C(0x9E3779B97F4A7C15)

/* splitmix64 (Steele, Lea and Flood, 2014): x + golden ratio, then a
 * bijective mixing of the 64 bits.  mix64(base + e * golden) over e = 0, 1,
 * 2, ... is splitmix64's stream from state `base`: a counter-based generator
 * with no state to carry between calls (or threads). */
static inline uint64_t pynn_mix64(uint64_t x)
{
    x += PYNN_GOLDEN;
    x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
    return x ^ (x >> 31);
}

/* The start of the stream of layer l's mask in update `step`. */
static inline uint64_t pynn_dropout_base(uint64_t seed, int64_t step, int64_t l)
{
    return pynn_mix64(pynn_mix64(pynn_mix64(seed) ^ (uint64_t)step) ^ (uint64_t)l);
}

/* An element is kept when the top 53 bits of its number, read as an integer
 * u in [0, 2^53), satisfy u >= ceil(p * 2^53): probability 1 - p up to 2^-53. */
static inline uint64_t pynn_dropout_threshold(double p)
{
    const double t = p * 9007199254740992.0;  /* 2^53, exact: p in [0, 1) */
    const uint64_t u = (uint64_t)t;
    return u + ((double)u < t);
}

#endif
