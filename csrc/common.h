/* Helpers shared by both precisions: checked size arithmetic and the
 * precision-independent parts of the network layout.  Internal, not part of
 * the public API. */
#ifndef PYNN_COMMON_H
#define PYNN_COMMON_H

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

/* Checks the shape, codes and buffer lengths of a network; the batch must be
 * covered by the workspace.  Returns PYNN_OK or an error code. */
int pynn_check_net(const pynn_net *net, int64_t batch);

/* Index in `sizes` of the widest layer output (sizes[1..n_layers]). */
int64_t pynn_max_width(const pynn_net *net);

#endif
