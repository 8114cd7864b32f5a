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

/* ---- blocked products (gemm.inc, simd_x86.c, threads.c) ---- */

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PYNN_X86 1
#else
#define PYNN_X86 0
#endif

#if defined(__GNUC__)
#define PYNN_ALIGN64 __attribute__((aligned(64)))
#else
#define PYNN_ALIGN64
#endif

#define PYNN_MR 6                          /* rows of every micro-kernel's tile */
#define PYNN_MAX_NR 32                     /* widest tile (AVX-512, float) */
#define PYNN_BLOCKED_MIN_WORK 64.0     /* M*N*K from which packing pays */
#define PYNN_PARALLEL_MIN_WORK 1048576.0   /* M*N*K from which threads pay */
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
#endif

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
