/* core_selftest: fixed inputs through pynn's public C API (csrc/pynn.h), for
 * comparing builds of the core across machines (.ci/platforms/cross runs it
 * under qemu-user for aarch64 and s390x, .ci/platforms/mingw_wine under
 * Wine) with the same program built natively on x86-64.
 *
 * Every input is an integer in [-128, 128] divided by 63 and scaled, all
 * in double, then rounded to float for the float32 runs: the same bits on
 * every IEEE-754 machine, and not dyadic, so that the products and sums
 * round (an order of operations that differs shows).  Each
 * output line starts with a class character:
 *
 *   =  must agree bit for bit with every other build: only +, -, *, /,
 *      sqrt (IEEE-correctly-rounded everywhere) reach these values, always
 *      through the portable micro-kernel (forced, PYNN_SIMD_PORTABLE), and
 *      the build has no FMA contraction and no excess precision.  Printed as
 *      count, an FNV-1a hash of the values' bit patterns, and the first
 *      values in hex.
 *   ~  goes through the C library's exp/log1p/tanh/erf/pow, which differ
 *      in the last bit between C libraries (glibc, mingw-w64/msvcrt): every
 *      value in hex, compared with a tolerance (compare.py).
 *   !  a check made here and now: "ok" or "FAIL ...".  The SIMD micro-
 *      kernels this CPU runs (AVX2, AVX-512, NEON) against the portable one
 *      within tests/test_gemm.py's tolerances (they use FMA, so they round
 *      differently); threads against one thread, bit for bit.
 *   #  information (architecture, FLT_EVAL_METHOD, simd_available).
 *
 * Exit status 1 if any "!" check fails.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pynn.h"

static int failures = 0;

/* ---- inputs and printing ---- */

/* value i of a stream: (((seed * 7919 + i * 104729) mod 257) - 128) / 63 */
static double gen(int seed, size_t i)
{
    const long v = (long)(((unsigned long)seed * 7919u + (unsigned long)i * 104729u) % 257u) - 128;
    return (double)v / 63.0;
}

static void fill(int f64, void *p, size_t n, int seed, double scale)
{
    for (size_t i = 0; i < n; i++) {
        const double v = gen(seed, i) * scale;
        if (f64) ((double *)p)[i] = v;
        else ((float *)p)[i] = (float)v;
    }
}

static uint64_t bits_of(int f64, const void *p, size_t i)
{
    if (f64) { uint64_t u; memcpy(&u, (const double *)p + i, 8); return u; }
    uint32_t u;
    memcpy(&u, (const float *)p + i, 4);
    return u;
}

static double value_of(int f64, const void *p, size_t i)
{
    return f64 ? ((const double *)p)[i] : (double)((const float *)p)[i];
}

/* FNV-1a over the values' bit patterns, least significant byte first (so
 * big- and little-endian machines hash the same values the same) */
static uint64_t hash_values(int f64, const void *p, size_t n)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < n; i++) {
        const uint64_t u = bits_of(f64, p, i);
        for (int b = 0; b < (f64 ? 8 : 4); b++) { h ^= (u >> (8 * b)) & 0xff; h *= UINT64_C(1099511628211); }
    }
    return h;
}

static void print_hex(int f64, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (f64) printf(" %016llx", (unsigned long long)bits_of(1, p, i));
        else printf(" %08lx", (unsigned long)bits_of(0, p, i));
    }
}

static const char *tag(int f64) { return f64 ? "f64" : "f32"; }

/* "= name count hash first..." */
static void exact(const char *name, int f64, const void *p, size_t n)
{
    printf("= %s.%s %lu %016llx", name, tag(f64), (unsigned long)n, (unsigned long long)hash_values(f64, p, n));
    print_hex(f64, p, n < 4 ? n : 4);
    printf("\n");
}

/* "~ name count all values" */
static void approx(const char *name, int f64, const void *p, size_t n)
{
    printf("~ %s.%s %lu", name, tag(f64), (unsigned long)n);
    print_hex(f64, p, n);
    printf("\n");
}

static void exact_doubles(const char *name, int f64, const double *v, size_t n)
{
    printf("= %s.%s %lu %016llx", name, tag(f64), (unsigned long)n, (unsigned long long)hash_values(1, v, n));
    print_hex(1, v, n);
    printf("\n");
}

static void approx_doubles(const char *name, int f64, const double *v, size_t n)
{
    printf("~ %s.%s %lu", name, tag(f64), (unsigned long)n);
    print_hex(1, v, n);
    printf("\n");
}

static void check(int ok, const char *what, int f64, const char *detail)
{
    printf("! %s.%s %s%s%s\n", what, tag(f64), ok ? "ok" : "FAIL", detail[0] ? " " : "", detail);
    if (!ok) failures++;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (p == NULL) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

/* ---- matrix products ---- */

static const int64_t SHAPES[][3] = {{1, 1, 1}, {5, 7, 3}, {6, 16, 8}, {13, 33, 29}, {97, 70, 300}, {130, 210, 40}};
#define N_SHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* C = A·B (NN, or NT with B stored N x K, or TN with A stored K x M) */
static void matmul(int f64, int32_t simd, pynn_pool *pool, int64_t M, int64_t N, int64_t K, int trans,
                   const void *A, const void *B, void *C)
{
    const int ta = trans == 2, tb = trans == 1;
    const int64_t rsa = ta ? 1 : K, csa = ta ? M : 1, rsb = tb ? 1 : N, csb = tb ? K : 1;
    const int64_t need = f64 ? pynn_matmul_pack_size_f64(pool, M, N, K) : pynn_matmul_pack_size_f32(pool, M, N, K);
    void *pack = xcalloc((size_t)need, f64 ? 8 : 4);
    const int status = f64
        ? pynn_matmul_f64(simd, pool, M, N, K, A, rsa, csa, B, rsb, csb, C, N, pack, need)
        : pynn_matmul_f32(simd, pool, M, N, K, A, rsa, csa, B, rsb, csb, C, N, pack, need);
    if (status != PYNN_OK) { printf("! matmul.%s FAIL status %d\n", tag(f64), status); failures++; }
    free(pack);
}

static void test_matmul(int f64, pynn_pool *pool3)
{
    static const char *const TRANS[3] = {"NN", "NT", "TN"};
    static const int32_t FAMILIES[3] = {PYNN_SIMD_AVX2, PYNN_SIMD_AVX512, PYNN_SIMD_NEON};
    static const char *const FAMILY_NAMES[3] = {"avx2", "avx512", "neon"};
    const size_t sz = f64 ? 8 : 4;
    for (size_t s = 0; s < N_SHAPES; s++)
        for (int t = 0; t < 3; t++) {
            const int64_t M = SHAPES[s][0], N = SHAPES[s][1], K = SHAPES[s][2];
            void *A = xcalloc((size_t)(M * K), sz), *B = xcalloc((size_t)(K * N), sz);
            void *C = xcalloc((size_t)(M * N), sz), *C3 = xcalloc((size_t)(M * N), sz);
            void *D = xcalloc((size_t)(M * N), sz);
            char name[64], detail[160];
            fill(f64, A, (size_t)(M * K), (int)(3 * s + t + 1), 1.0);
            fill(f64, B, (size_t)(K * N), (int)(3 * s + t + 101), 1.0);
            matmul(f64, PYNN_SIMD_PORTABLE, NULL, M, N, K, t, A, B, C);
            sprintf(name, "matmul_%ldx%ldx%ld_%s", (long)M, (long)N, (long)K, TRANS[t]);
            exact(name, f64, C, (size_t)(M * N));

            /* three threads: the same bits as one */
            matmul(f64, PYNN_SIMD_PORTABLE, pool3, M, N, K, t, A, B, C3);
            sprintf(name, "threads_%ldx%ldx%ld_%s", (long)M, (long)N, (long)K, TRANS[t]);
            check(memcmp(C, C3, (size_t)(M * N) * sz) == 0, name, f64, "");

            /* every SIMD family this CPU runs, against the portable kernel,
             * within tests/test_gemm.py's tolerance: max|D - C| <= tol
             * sqrt(K) max|C|, tol 1e-5 (float) or 1e-13 (double) */
            for (int fam = 0; fam < 3; fam++) {
                if (!pynn_simd_available(FAMILIES[fam])) continue;
                double worst = 0, biggest = 0;
                matmul(f64, FAMILIES[fam], pool3, M, N, K, t, A, B, D);
                for (size_t i = 0; i < (size_t)(M * N); i++) {
                    const double c = value_of(f64, C, i), d = value_of(f64, D, i);
                    if (fabs(d - c) > worst || d != d) worst = fabs(d - c);
                    if (fabs(c) > biggest) biggest = fabs(c);
                }
                const double tol = (f64 ? 1e-13 : 1e-5) * sqrt((double)K) * biggest;
                sprintf(name, "kernel_%s_%ldx%ldx%ld_%s", FAMILY_NAMES[fam], (long)M, (long)N, (long)K, TRANS[t]);
                sprintf(detail, "max diff %.3g, tolerance %.3g", worst, tol);
                check(worst <= tol, name, f64, detail);
            }
            free(A); free(B); free(C); free(C3); free(D);
        }
}

/* ---- networks ---- */

typedef struct {
    pynn_net net;
    int64_t sizes[8];
    int32_t acts[8];
    double dropout[8];
    void *params0;          /* the initial parameters, to restart from */
    int64_t batch;
    void *X, *y;            /* batch x sizes[0], batch x sizes[n_layers] */
    int64_t *labels;        /* or NULL */
    void *weights;          /* batch, or NULL */
    int f64;
} model;

static void model_init(model *m, int f64, int64_t n_layers, const int64_t *sizes, const int32_t *acts, int32_t loss,
                       int64_t batch, int seed, pynn_pool *pool, int32_t simd)
{
    const size_t sz = f64 ? 8 : 4;
    memset(m, 0, sizeof *m);
    m->f64 = f64;
    m->batch = batch;
    memcpy(m->sizes, sizes, (size_t)(n_layers + 1) * sizeof *sizes);
    memcpy(m->acts, acts, (size_t)n_layers * sizeof *acts);
    m->net.n_layers = n_layers;
    m->net.sizes = m->sizes;
    m->net.acts = m->acts;
    m->net.loss = loss;
    m->net.n_params = pynn_param_count(n_layers, sizes);
    m->net.params = xcalloc((size_t)m->net.n_params, sz);
    m->net.grads = xcalloc((size_t)m->net.n_params, sz);
    m->params0 = xcalloc((size_t)m->net.n_params, sz);
    fill(f64, m->params0, (size_t)m->net.n_params, seed, 0.25);
    memcpy(m->net.params, m->params0, (size_t)m->net.n_params * sz);
    m->net.pool = pool;
    m->net.simd = simd;
    m->net.work_len = f64 ? pynn_workspace_size_f64(&m->net, batch) : pynn_workspace_size_f32(&m->net, batch);
    m->net.work = xcalloc((size_t)m->net.work_len, sz);
    m->X = xcalloc((size_t)(batch * sizes[0]), sz);
    fill(f64, m->X, (size_t)(batch * sizes[0]), seed + 1, 1.0);
    m->y = xcalloc((size_t)(batch * sizes[n_layers]), sz);
    fill(f64, m->y, (size_t)(batch * sizes[n_layers]), seed + 2, 0.5);
}

static void model_targets_01(model *m)  /* targets in [0, 1] for bce */
{
    const size_t n = (size_t)(m->batch * m->sizes[m->net.n_layers]);
    for (size_t i = 0; i < n; i++) {
        const double v = (gen(7, i) + 2.0) / 4.0;
        const double c = v < 0 ? 0 : v > 1 ? 1 : v;
        if (m->f64) ((double *)m->y)[i] = c; else ((float *)m->y)[i] = (float)c;
    }
}

static void model_free(model *m)
{
    free(m->net.params); free(m->net.grads); free(m->net.state); free(m->net.work);
    free(m->params0); free(m->X); free(m->y); free(m->labels); free(m->weights);
}

static void model_reset(model *m, const pynn_optimizer *opt)
{
    const size_t sz = m->f64 ? 8 : 4;
    memcpy(m->net.params, m->params0, (size_t)m->net.n_params * sz);
    free(m->net.state);
    m->net.state_len = opt ? pynn_optimizer_state_size(opt, m->net.n_params) : 0;
    m->net.state = xcalloc((size_t)m->net.state_len, sz);
}

static int train_step(model *m, pynn_optimizer *opt, double *loss, double *correct)
{
    return m->f64 ? pynn_train_step_f64(&m->net, opt, m->batch, m->X, m->labels ? NULL : m->y, m->labels,
                                        m->weights, loss, correct)
                  : pynn_train_step_f32(&m->net, opt, m->batch, m->X, m->labels ? NULL : m->y, m->labels,
                                        m->weights, loss, correct);
}

static int predict(model *m, void *out)
{
    return m->f64 ? pynn_predict_f64(&m->net, m->batch, m->X, out) : pynn_predict_f32(&m->net, m->batch, m->X, out);
}

static pynn_optimizer optimizer(int32_t kind)
{
    pynn_optimizer o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.beta1 = 0.9; o.beta2 = 0.999; o.alpha = 0.99; o.eps = 1e-8;
    switch (kind) {
    case PYNN_SGD: o.lr = 0.05; o.momentum = 0.9; o.nesterov = 1; o.weight_decay = 1e-3; break;
    case PYNN_ADAM: o.lr = 0.01; break;
    case PYNN_ADAMW: o.lr = 0.01; o.weight_decay = 0.01; break;
    case PYNN_RMSPROP: o.lr = 0.01; o.momentum = 0.5; break;
    }
    return o;
}

/* `steps` train steps from the initial parameters: the losses, then the
 * parameters and predictions, as "=" (exact) or "~" lines */
static void train_and_print(model *m, const char *name, int32_t kind, int steps, int is_exact)
{
    pynn_optimizer opt = optimizer(kind);
    double losses[16];
    char full[96];
    const size_t n_out = (size_t)(m->batch * m->sizes[m->net.n_layers]);
    void *out = xcalloc(n_out, m->f64 ? 8 : 4);
    model_reset(m, &opt);
    for (int s = 0; s < steps; s++) {
        double correct = 0;
        const int status = train_step(m, &opt, &losses[s], &correct);
        if (status != PYNN_OK) { printf("! %s.%s FAIL train_step status %d\n", name, tag(m->f64), status); failures++; }
    }
    if (predict(m, out) != PYNN_OK) { printf("! %s.%s FAIL predict\n", name, tag(m->f64)); failures++; }
    sprintf(full, "%s_losses", name);
    (is_exact ? exact_doubles : approx_doubles)(full, m->f64, losses, (size_t)steps);
    sprintf(full, "%s_params", name);
    (is_exact ? exact : approx)(full, m->f64, m->net.params, (size_t)m->net.n_params);
    sprintf(full, "%s_predict", name);
    (is_exact ? exact : approx)(full, m->f64, out, n_out);
    free(out);
}

/* The same training with the kernels `simd` (auto: the best this CPU has)
 * against the portable kernel: parameters within tests/test_gemm.py's
 * network tolerance, max|diff| <= rtol max|portable| (1e-4 float, 1e-10 double). */
static void compare_kernels(model *m, const char *name, int32_t simd)
{
    pynn_optimizer opt = optimizer(PYNN_ADAM);
    const size_t n = (size_t)m->net.n_params, sz = m->f64 ? 8 : 4;
    void *ref = xcalloc(n, sz);
    double loss, correct, worst = 0, biggest = 0;
    char detail[128], full[96];
    const int32_t saved = m->net.simd;
    for (int pass = 0; pass < 2; pass++) {
        m->net.simd = pass == 0 ? PYNN_SIMD_PORTABLE : simd;
        opt = optimizer(PYNN_ADAM);
        model_reset(m, &opt);
        for (int s = 0; s < 6; s++) train_step(m, &opt, &loss, &correct);
        if (pass == 0) memcpy(ref, m->net.params, n * sz);
    }
    for (size_t i = 0; i < n; i++) {
        const double a = value_of(m->f64, ref, i), b = value_of(m->f64, m->net.params, i);
        if (fabs(a - b) > worst || b != b) worst = fabs(a - b);
        if (fabs(a) > biggest) biggest = fabs(a);
    }
    const double tol = (m->f64 ? 1e-10 : 1e-4) * biggest;
    sprintf(full, "%s_auto_vs_portable", name);
    sprintf(detail, "max diff %.3g, tolerance %.3g", worst, tol);
    check(worst <= tol, full, m->f64, detail);
    m->net.simd = saved;
    free(ref);
}

static void test_networks(int f64, pynn_pool *pool3)
{
    /* A: arithmetic only (relu, leaky relu, linear; mse, mae, huber) */
    {
        const int64_t sizes[] = {7, 13, 9, 3};
        const int32_t acts[] = {PYNN_RELU, PYNN_LEAKY_RELU, PYNN_LINEAR};
        static const char *const OPT_NAMES[4] = {"sgd_nesterov", "adam", "adamw", "rmsprop"};
        model m;
        model_init(&m, f64, 3, sizes, acts, PYNN_MSE, 10, 11, NULL, PYNN_SIMD_PORTABLE);
        for (int32_t kind = PYNN_SGD; kind <= PYNN_RMSPROP; kind++) {
            char name[64];
            sprintf(name, "netA_mse_%s", OPT_NAMES[kind]);
            train_and_print(&m, name, kind, 5, kind == PYNN_SGD || kind == PYNN_RMSPROP);
            /* Adam's bias correction calls pow(): exact where the C
             * libraries' pow agree, which compare.py reports as it finds */
        }
        m.net.loss = PYNN_MAE;
        train_and_print(&m, "netA_mae_sgd", PYNN_SGD, 4, 1);
        m.net.loss = PYNN_HUBER;
        train_and_print(&m, "netA_huber_rmsprop", PYNN_RMSPROP, 4, 1);

        /* sample weights and dropout (counter-based masks: integer arithmetic) */
        m.weights = xcalloc((size_t)m.batch, f64 ? 8 : 4);
        for (int64_t i = 0; i < m.batch; i++) {
            if (f64) ((double *)m.weights)[i] = (double)(i % 4);
            else ((float *)m.weights)[i] = (float)(i % 4);
        }
        m.net.loss = PYNN_MSE;
        m.dropout[0] = 0.25; m.dropout[1] = 0.125; m.dropout[2] = 0;
        m.net.dropout = m.dropout;
        m.net.dropout_seed = UINT64_C(0x0123456789abcdef);
        free(m.net.work);  /* dropout needs more workspace */
        m.net.work_len = f64 ? pynn_workspace_size_f64(&m.net, m.batch) : pynn_workspace_size_f32(&m.net, m.batch);
        m.net.work = xcalloc((size_t)m.net.work_len, f64 ? 8 : 4);
        train_and_print(&m, "netA_weighted_dropout_sgd", PYNN_SGD, 4, 1);
        m.net.dropout = NULL;
        free(m.weights);
        m.weights = NULL;

        /* L-BFGS with the strong-Wolfe line search */
        {
            const int64_t n = m.net.n_params, hist = 4;
            const size_t sz = f64 ? 8 : 4;
            pynn_lbfgs o;
            double loss = 0, correct = 0, record[3];
            memset(&o, 0, sizeof o);
            o.lr = 1; o.max_iter = 5; o.max_eval = 7; o.tolerance_grad = 1e-7; o.tolerance_change = 1e-9;
            o.history_size = hist; o.line_search = 1;
            o.d = xcalloc((size_t)n, sz); o.prev_flat_grad = xcalloc((size_t)n, sz);
            o.old_dirs = xcalloc((size_t)(hist * n), sz); o.old_stps = xcalloc((size_t)(hist * n), sz);
            o.ro = (double *)xcalloc((size_t)hist, 8); o.al = (double *)xcalloc((size_t)hist, 8);
            o.scratch = xcalloc((size_t)(7 * n), sz);
            model_reset(&m, NULL);
            for (int64_t step = 1; step <= 3; step++) {
                const int status = f64
                    ? pynn_lbfgs_step_f64(&m.net, &o, step, m.batch, m.X, m.y, NULL, NULL, &loss, &correct)
                    : pynn_lbfgs_step_f32(&m.net, &o, step, m.batch, m.X, m.y, NULL, NULL, &loss, &correct);
                if (status != PYNN_OK) { printf("! lbfgs.%s FAIL status %d\n", tag(f64), status); failures++; }
                record[step - 1] = loss;
            }
            exact_doubles("netA_lbfgs_losses", f64, record, 3);
            exact("netA_lbfgs_params", f64, m.net.params, (size_t)n);
            free(o.d); free(o.prev_flat_grad); free(o.old_dirs); free(o.old_stps); free(o.ro); free(o.al);
            free(o.scratch);
        }

        /* pynn_loss alone, with sample weights */
        {
            const size_t n = (size_t)(m.batch * 3), sz = f64 ? 8 : 4;
            void *out = xcalloc(n, sz), *dout = xcalloc(n, sz), *w = xcalloc((size_t)m.batch, sz);
            double values[3];
            fill(f64, out, n, 21, 1.0);
            for (int64_t i = 0; i < m.batch; i++) {
                if (f64) ((double *)w)[i] = (double)(i % 3) * 0.5;
                else ((float *)w)[i] = (float)((double)(i % 3) * 0.5);
            }
            for (int32_t loss = PYNN_MSE; loss <= PYNN_HUBER; loss++) {
                char name[32];
                const int status = f64
                    ? pynn_loss_f64(loss, m.batch, 3, out, m.y, NULL, w, dout, &values[loss], NULL)
                    : pynn_loss_f32(loss, m.batch, 3, out, m.y, NULL, w, dout, &values[loss], NULL);
                if (status != PYNN_OK) { printf("! loss.%s FAIL status %d\n", tag(f64), status); failures++; }
                sprintf(name, "loss%d_gradient", (int)loss);
                exact(name, f64, dout, n);
            }
            exact_doubles("loss_values", f64, values, 3);
            free(out); free(dout); free(w);
        }
        model_free(&m);
    }

    /* B: wide enough for the blocked products and (70 x 130 x 200 > 2^20)
     * for threads; portable kernel, one thread and three: the same bits */
    {
        const int64_t sizes[] = {70, 130, 40, 12};
        const int32_t acts[] = {PYNN_RELU, PYNN_LEAKY_RELU, PYNN_LINEAR};
        model m;
        pynn_optimizer opt = optimizer(PYNN_SGD);
        double loss, correct;
        void *one = NULL;
        const size_t sz = f64 ? 8 : 4;
        for (int pass = 0; pass < 2; pass++) {
            model_init(&m, f64, 3, sizes, acts, PYNN_MSE, 200, 31, pass ? pool3 : NULL, PYNN_SIMD_PORTABLE);
            opt = optimizer(PYNN_SGD);
            opt.lr = 0.002;
            model_reset(&m, &opt);
            for (int s = 0; s < 3; s++) train_step(&m, &opt, &loss, &correct);
            if (pass == 0) {
                exact("netB_blocked_sgd_params", f64, m.net.params, (size_t)m.net.n_params);
                one = xcalloc((size_t)m.net.n_params, sz);
                memcpy(one, m.net.params, (size_t)m.net.n_params * sz);
            } else {
                check(memcmp(one, m.net.params, (size_t)m.net.n_params * sz) == 0, "netB_threads_same_bits", f64, "");
            }
            if (pass == 1) compare_kernels(&m, "netB", PYNN_SIMD_AUTO);
            model_free(&m);
        }
        free(one);
    }

    /* C: the C library's functions (tanh, erf, exp, log1p): softmax and
     * cross-entropy with labels; sigmoid and bce */
    {
        const int64_t sizes[] = {6, 10, 8, 4};
        const int32_t acts[] = {PYNN_TANH, PYNN_GELU, PYNN_SOFTMAX};
        model m;
        model_init(&m, f64, 3, sizes, acts, PYNN_CROSS_ENTROPY, 8, 41, NULL, PYNN_SIMD_PORTABLE);
        m.labels = (int64_t *)xcalloc((size_t)m.batch, sizeof(int64_t));
        for (int64_t i = 0; i < m.batch; i++) m.labels[i] = (i * 3) % 4;
        train_and_print(&m, "netC_softmax_adam", PYNN_ADAM, 4, 0);
        model_free(&m);
    }
    {
        const int64_t sizes[] = {5, 8, 2};
        const int32_t acts[] = {PYNN_SIGMOID, PYNN_SIGMOID};
        model m;
        model_init(&m, f64, 2, sizes, acts, PYNN_BCE, 9, 51, NULL, PYNN_SIMD_PORTABLE);
        model_targets_01(&m);
        train_and_print(&m, "netD_bce_sgd", PYNN_SGD, 4, 0);
        model_free(&m);
    }
}

int main(void)
{
    pynn_pool *pool3 = pynn_pool_create(3);
    printf("# FLT_EVAL_METHOD %d\n", (int)FLT_EVAL_METHOD);
    printf("# simd_available auto %d portable %d avx2 %d avx512 %d neon %d other %d\n",
           (int)pynn_simd_available(PYNN_SIMD_AUTO), (int)pynn_simd_available(PYNN_SIMD_PORTABLE),
           (int)pynn_simd_available(PYNN_SIMD_AVX2), (int)pynn_simd_available(PYNN_SIMD_AVX512),
           (int)pynn_simd_available(PYNN_SIMD_NEON), (int)pynn_simd_available(99));
    printf("# pool_size %d\n", (int)pynn_pool_size(pool3));
    for (int32_t code = -1; code <= 5; code++) {
        const int32_t a = pynn_simd_available(code);
        char name[32];
        sprintf(name, "simd_available_%d_is_0_or_1", (int)code);
        check(a == 0 || a == 1, name, 0, "");
    }
    check(pynn_pool_size(pool3) == 3, "pool_has_3_threads", 0, "");
    for (int f64 = 0; f64 <= 1; f64++) {
        test_matmul(f64, pool3);
        test_networks(f64, pool3);
    }
    pynn_pool_destroy(pool3);
    printf("# failures %d\n", failures);
    return failures ? 1 : 0;
}
