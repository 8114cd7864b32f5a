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

#endif
