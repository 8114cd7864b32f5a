/* pynn.h -- the public C API of pynn's compiled core.
 *
 * Every kernel exists twice, with the suffix _f32 (float) and _f64 (double);
 * both are built from the same source (core_f32.c / core_f64.c include the
 * *.inc files with `real` set to float or double).
 *
 * Conventions
 *   - Arrays are C-contiguous, row-major.  A dense layer has W of shape
 *     (n_in, n_out) and b of shape (n_out):  Y = act(X·W + b).
 *   - One flat parameter buffer per network: for each layer, W then b.
 *     Gradients and optimizer state use the same layout.
 *   - Buffers are owned by the caller (Python).  Nothing here allocates,
 *     keeps a pointer after returning, or touches global mutable state, so
 *     every function is reentrant and may run without the GIL.
 *   - Functions return PYNN_OK (0) or a negative pynn_status; on error the
 *     output buffers may be partly written but never outside their lengths.
 *
 * The Python side: pynn/_plan.py is this struct's twin (a Plan), and the
 * Backend protocol in pynn/backends.py is the Python face of the network
 * functions below, which pynn/c_backend.py wraps and pynn/numpy_backend.py
 * reimplements.
 *
 * The block between the CDEF markers is read verbatim by the cffi build script
 * (csrc/build_core.py), so it holds plain declarations only: no #include,
 * no #define, no #if.
 */
#ifndef PYNN_H
#define PYNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* BEGIN CDEF */

typedef enum pynn_status {
    PYNN_OK = 0,
    PYNN_ERR_ARGUMENT = -1,    /* a size, code or pointer is invalid */
    PYNN_ERR_WORKSPACE = -2,   /* the workspace is shorter than pynn_workspace_size() */
    PYNN_ERR_LABEL = -3,       /* a class label is outside [0, n_classes) */
    PYNN_ERR_X_NONFINITE = -4, /* the inputs hold NaN or infinity */
    PYNN_ERR_Y_NONFINITE = -5, /* the targets hold NaN or infinity */
    PYNN_ERR_Y_RANGE = -6,     /* a bce or cross-entropy target is outside [0, 1] */
    PYNN_ERR_DIVERGED = -7,    /* the loss or a gradient is not finite: no update was made */
    PYNN_ERR_WEIGHTS = -8      /* a sample weight is negative, NaN or infinite */
} pynn_status;

typedef enum pynn_activation {
    PYNN_LINEAR = 0,
    PYNN_SIGMOID = 1,
    PYNN_TANH = 2,
    PYNN_RELU = 3,
    PYNN_LEAKY_RELU = 4,       /* slope 0.01 for negative inputs */
    PYNN_GELU = 5,             /* exact form: x * Phi(x), Phi the normal CDF (erf) */
    PYNN_SOFTMAX = 6           /* over each row; last layer only */
} pynn_activation;

typedef enum pynn_loss {
    PYNN_MSE = 0,              /* mean of (p - y)^2 over all elements */
    PYNN_MAE = 1,              /* mean of |p - y| */
    PYNN_HUBER = 2,            /* delta = 1 */
    PYNN_BCE = 3,              /* sigmoid output; computed on the logits (BCEWithLogits) */
    PYNN_CROSS_ENTROPY = 4     /* softmax output; computed on the logits (log-sum-exp) */
} pynn_loss;

/* Micro-kernel families for the blocked products (chosen at run time). */
typedef enum pynn_simd {
    PYNN_SIMD_AUTO = 0,        /* the best this CPU supports */
    PYNN_SIMD_PORTABLE = 1,    /* plain C */
    PYNN_SIMD_AVX2 = 2,        /* AVX2 + FMA (x86-64) */
    PYNN_SIMD_AVX512 = 3,      /* AVX-512F (x86-64) */
    PYNN_SIMD_NEON = 4         /* NEON (AArch64, where it is always available) */
} pynn_simd;

/* A pool of worker threads (threads.c).  Made once by the caller and passed
 * in pynn_net.pool; NULL means single-threaded. */
typedef struct pynn_pool pynn_pool;

typedef enum pynn_optimizer_kind {
    PYNN_SGD = 0,
    PYNN_ADAM = 1,
    PYNN_ADAMW = 2,
    PYNN_RMSPROP = 3
} pynn_optimizer_kind;

/* A network's shape and the buffers it trains in.  Filled by Python once and
 * updated only when a buffer is reallocated.  Pointers are float* for the
 * _f32 functions and double* for the _f64 ones. */
typedef struct pynn_net {
    int64_t n_layers;
    const int64_t *sizes;      /* n_layers + 1 widths: inputs, then each layer's outputs */
    const int32_t *acts;       /* n_layers pynn_activation codes */
    int32_t loss;              /* pynn_loss code */
    int64_t n_params;          /* length of params and grads */
    void *params;              /* n_params: W1, b1, W2, b2, ... */
    void *grads;               /* n_params, same layout */
    void *state;               /* state_len: optimizer state, slot after slot of n_params */
    int64_t state_len;
    void *work;                /* work_len: activations, scratch and packing space for one batch */
    int64_t work_len;
    pynn_pool *pool;           /* threads for large products, or NULL */
    int32_t simd;              /* pynn_simd: which micro-kernels the products use */
    /* Dropout, in training only (gradients and train steps; never in predict
     * or evaluate).  NULL, or n_layers rates in [0, 1): each element of layer
     * l's input is zeroed with probability dropout[l] and the others scaled
     * by 1/(1 - dropout[l]) (inverted dropout).  The masks are a function of
     * (dropout_seed, update index, l, element): see dropout.inc. */
    const double *dropout;
    uint64_t dropout_seed;
    /* The index of the batch's first row in the step's whole batch: 0, except
     * in data-parallel training, where rank r's rows follow those of ranks
     * 0..r-1, so that no two ranks draw the same masks (pynn.distributed). */
    int64_t dropout_row;
} pynn_net;

/* Hyperparameters of one update, with PyTorch's meanings.  `step` is the
 * 1-based index of the update being made (Adam's bias correction uses it). */
typedef struct pynn_optimizer {
    int32_t kind;              /* pynn_optimizer_kind */
    int32_t nesterov;          /* SGD only */
    double lr;
    double momentum;           /* SGD, RMSprop */
    double beta1, beta2;       /* Adam, AdamW */
    double alpha;              /* RMSprop smoothing constant */
    double eps;                /* Adam, AdamW, RMSprop */
    double weight_decay;
    int64_t step;
} pynn_optimizer;

/* L-BFGS (torch.optim.LBFGS's arguments) and its state between steps, all
 * owned by the caller.  n = the network's n_params, m = history_size;
 * buffers are float* for the _f32 functions and double* for the _f64 ones.
 * The caller zeroes the state once (n_iter = 0 starts afresh). */
typedef struct pynn_lbfgs {
    double lr;
    int64_t max_iter;
    int64_t max_eval;          /* evaluations per step */
    double tolerance_grad;
    double tolerance_change;
    int64_t history_size;
    int32_t line_search;       /* 1: strong Wolfe, 0: none */
    int64_t n_iter;            /* iterations so far, over all steps */
    int64_t func_evals;        /* evaluations so far */
    int64_t n_pairs;           /* update pairs held, <= m */
    int64_t head;              /* ring position of the oldest pair */
    double t;                  /* the last step length */
    double H_diag;             /* the initial inverse-Hessian scale */
    void *d;                   /* n: the last direction */
    void *prev_flat_grad;      /* n */
    void *old_dirs;            /* m x n: gradient differences y, a ring */
    void *old_stps;            /* m x n: steps s, a ring */
    double *ro;                /* m: 1 / (y . s) of each pair */
    double *al;                /* m: scratch */
    void *scratch;             /* 7 n: scratch */
} pynn_lbfgs;

/* Number of parameters of the network (sum of n_in*n_out + n_out), or -1 on
 * an invalid shape or overflow. */
int64_t pynn_param_count(int64_t n_layers, const int64_t *sizes);

/* Elements of workspace a batch of `batch` rows needs (with packing space
 * for net->pool's threads), or -1 on overflow. */
int64_t pynn_workspace_size_f32(const pynn_net *net, int64_t batch);
int64_t pynn_workspace_size_f64(const pynn_net *net, int64_t batch);

/* Threads: a pool of n_threads (including the caller), NULL on failure; may
 * hold fewer threads if the system refuses more (see pynn_pool_size). */
pynn_pool *pynn_pool_create(int32_t n_threads);
void pynn_pool_destroy(pynn_pool *pool);
int32_t pynn_pool_size(const pynn_pool *pool);

/* 1 if this CPU can run the micro-kernels of `simd` (a pynn_simd), else 0. */
int32_t pynn_simd_available(int32_t simd);

/* Elements of optimizer state for n parameters (momentum and moment buffers). */
int64_t pynn_optimizer_state_size(const pynn_optimizer *opt, int64_t n);

/* ---- single kernels (used by the network functions; exported for tests) ---- */

/* a = act(z), z and a (rows, cols); a may alias z.  Softmax is per row. */
int pynn_activation_forward_f32(int32_t act, int64_t rows, int64_t cols, const float *z, float *a);
int pynn_activation_forward_f64(int32_t act, int64_t rows, int64_t cols, const double *z, double *a);

/* dz = da * act'(z), all (rows, cols); a = act(z).  Not for softmax, whose
 * gradient is only ever taken fused with cross-entropy. */
int pynn_activation_backward_f32(int32_t act, int64_t rows, int64_t cols, const float *z, const float *a, const float *da, float *dz);
int pynn_activation_backward_f64(int32_t act, int64_t rows, int64_t cols, const double *z, const double *a, const double *da, double *dz);

/* Z = X·W + b, A = act(Z).  X (batch, n_in), W (n_in, n_out), b (n_out),
 * Z and A (batch, n_out). */
int pynn_dense_forward_f32(float *Z, float *A, const float *X, const float *W, const float *b, int64_t batch, int64_t n_in, int64_t n_out, int32_t act);
int pynn_dense_forward_f64(double *Z, double *A, const double *X, const double *W, const double *b, int64_t batch, int64_t n_in, int64_t n_out, int32_t act);

/* Given dZ (batch, n_out): dW = Xᵀ·dZ (n_in, n_out), db = column sums of dZ
 * (n_out), dX = dZ·Wᵀ (batch, n_in).  dW, db, dX are overwritten; dX may be
 * NULL when the input gradient is not needed (first layer). */
int pynn_dense_backward_f32(float *dX, float *dW, float *db, const float *dZ, const float *X, const float *W, int64_t batch, int64_t n_in, int64_t n_out);
int pynn_dense_backward_f64(double *dX, double *dW, double *db, const double *dZ, const double *X, const double *W, int64_t batch, int64_t n_in, int64_t n_out);

/* C = A·B with the blocked product (gemm.inc), for tests and benchmarks.
 * A (M x K) is read as A[i*rsa + p*csa], B (K x N) as B[p*rsb + j*csb], C
 * (M x N) has row stride ldc >= N.  pack has pack_len elements, at least
 * pynn_matmul_pack_size(pool, M, N, K).  The caller guarantees the strides
 * stay inside A and B. */
int pynn_matmul_f32(int32_t simd, pynn_pool *pool, int64_t M, int64_t N, int64_t K, const float *A, int64_t rsa, int64_t csa, const float *B, int64_t rsb, int64_t csb, float *C, int64_t ldc, float *pack, int64_t pack_len);
int pynn_matmul_f64(int32_t simd, pynn_pool *pool, int64_t M, int64_t N, int64_t K, const double *A, int64_t rsa, int64_t csa, const double *B, int64_t rsb, int64_t csb, double *C, int64_t ldc, double *pack, int64_t pack_len);
int64_t pynn_matmul_pack_size_f32(const pynn_pool *pool, int64_t M, int64_t N, int64_t K);
int64_t pynn_matmul_pack_size_f64(const pynn_pool *pool, int64_t M, int64_t N, int64_t K);

/* Loss of a batch and, when dout is not NULL, its gradient.  out (batch, k)
 * is the activated output for mse/mae/huber and the pre-activation logits for
 * bce/cross_entropy (then dout is the gradient with respect to the logits).
 * Targets are either y (batch, k) or, for cross-entropy only, labels (batch)
 * with values in [0, k); the other pointer is NULL.  weights (batch), or NULL
 * for all ones: the loss is the weighted mean sum_i w_i l_i / sum_i w_i of
 * the rows' losses (a row's loss is the mean over its k elements for the
 * elementwise losses), so an integer weight k counts a row k times; a batch
 * whose weights sum to 0 has loss 0 and gradient 0.  *loss receives that
 * mean (accumulated in double); *n_correct, if not NULL, the weighted count
 * of correctly classified rows (cross-entropy) or elements (bce). */
int pynn_loss_f32(int32_t loss, int64_t batch, int64_t k, const float *out, const float *y, const int64_t *labels, const float *weights, float *dout, double *loss_value, double *n_correct);
int pynn_loss_f64(int32_t loss, int64_t batch, int64_t k, const double *out, const double *y, const int64_t *labels, const double *weights, double *dout, double *loss_value, double *n_correct);

/* One optimizer update of n parameters in place, PyTorch's rule for
 * opt->kind.  grads (n) is read only; state has pynn_optimizer_state_size()
 * elements, zeroed before the first step. */
int pynn_optimizer_step_f32(const pynn_optimizer *opt, int64_t n, float *params, const float *grads, float *state);
int pynn_optimizer_step_f64(const pynn_optimizer *opt, int64_t n, double *params, const double *grads, double *state);

/* ---- whole network, over the buffers in pynn_net ---- */

/* The network functions check their inputs first (finite values, targets
 * in range, labels in [0, k), sample weights finite and >= 0) and return a
 * PYNN_ERR_* code before changing anything if a check fails.  `weights`
 * (batch rows), or NULL for all ones, weighs each row's loss as in
 * pynn_loss.
 *
 * out (batch, sizes[n_layers]) = the network's output (probabilities for
 * sigmoid and softmax outputs).  X is (batch, sizes[0]). */
int pynn_predict_f32(const pynn_net *net, int64_t batch, const float *X, float *out);
int pynn_predict_f64(const pynn_net *net, int64_t batch, const double *X, double *out);

/* As pynn_predict, but out receives the last layer's pre-activation values
 * (the logits of a softmax or sigmoid output; for decision functions). */
int pynn_logits_f32(const pynn_net *net, int64_t batch, const float *X, float *out);
int pynn_logits_f64(const pynn_net *net, int64_t batch, const double *X, double *out);

/* The value checks the training functions make, alone: X (rows, sizes[0])
 * finite; y (rows, sizes[n_layers]) finite, and in [0, 1] for the
 * cross-entropies; or labels (rows) in [0, sizes[n_layers]) for
 * cross-entropy.  Reads only n_layers, sizes and loss of net (no workspace
 * needed): for checking a whole data set before training on it. */
int pynn_check_inputs_f32(const pynn_net *net, int64_t rows, const float *X, const float *y, const int64_t *labels, const float *weights);
int pynn_check_inputs_f64(const pynn_net *net, int64_t rows, const double *X, const double *y, const int64_t *labels, const double *weights);

/* Forward pass and loss of one batch (see pynn_loss_*), without gradients. */
int pynn_evaluate_f32(const pynn_net *net, int64_t batch, const float *X, const float *y, const int64_t *labels, const float *weights, double *loss_value, double *n_correct);
int pynn_evaluate_f64(const pynn_net *net, int64_t batch, const double *X, const double *y, const int64_t *labels, const double *weights, double *loss_value, double *n_correct);

/* Forward, loss and backward: net->grads receives the gradient of the mean
 * loss of the batch; *loss_value the loss; *n_correct (may be NULL) as in
 * pynn_loss_*.  step (>= 1) is the update index whose dropout masks to use:
 * opt->step + 1 gives the gradient the next train step would apply. */
int pynn_gradients_f32(const pynn_net *net, int64_t step, int64_t batch, const float *X, const float *y, const int64_t *labels, const float *weights, double *loss_value, double *n_correct);
int pynn_gradients_f64(const pynn_net *net, int64_t step, int64_t batch, const double *X, const double *y, const int64_t *labels, const double *weights, double *loss_value, double *n_correct);

/* One training step: pynn_gradients, then the optimizer update of
 * net->params.  opt->step counts updates: it is incremented, then used as
 * the index of this update (and of its dropout masks).  *loss_value and *n_correct describe the batch
 * before the update.  If the loss or any gradient is NaN or infinite the
 * step returns PYNN_ERR_DIVERGED without updating anything. */
int pynn_train_step_f32(const pynn_net *net, pynn_optimizer *opt, int64_t batch, const float *X, const float *y, const int64_t *labels, const float *weights, double *loss_value, double *n_correct);
int pynn_train_step_f64(const pynn_net *net, pynn_optimizer *opt, int64_t batch, const double *X, const double *y, const int64_t *labels, const double *weights, double *loss_value, double *n_correct);

/* One optimizer update of net->params from the gradients already in
 * net->grads (written there by the caller): opt->step is incremented and
 * used as the update's index.  PYNN_ERR_DIVERGED, with nothing changed, if a
 * gradient is NaN or infinite. */
int pynn_apply_gradients_f32(const pynn_net *net, pynn_optimizer *opt);
int pynn_apply_gradients_f64(const pynn_net *net, pynn_optimizer *opt);

/* One L-BFGS step on the batch, as torch.optim.LBFGS.step with a closure
 * computing this batch's loss and gradients (pynn_gradients with update
 * `step`'s dropout masks): up to max_iter iterations of the two-loop
 * recursion and, with line_search, torch's strong-Wolfe line search, moving
 * net->params and updating the state in opt.  *loss_value and *n_correct
 * describe the batch before the step.  PYNN_ERR_DIVERGED, with nothing
 * changed, if that first loss is not finite. */
int pynn_lbfgs_step_f32(const pynn_net *net, pynn_lbfgs *opt, int64_t step, int64_t batch, const float *X, const float *y, const int64_t *labels, const float *weights, double *loss_value, double *n_correct);
int pynn_lbfgs_step_f64(const pynn_net *net, pynn_lbfgs *opt, int64_t step, int64_t batch, const double *X, const double *y, const int64_t *labels, const double *weights, double *loss_value, double *n_correct);

/* Training on n_rows rows of X (with y or labels, and weights) in
 * consecutive batches of batch_size rows (the last may be smaller): one
 * train step per batch.  index NULL: the rows are X's first n_rows, every
 * one checked before the first update (n_data is not read).  Otherwise
 * index (n_rows entries, each in [0, n_data)) lists the rows in training
 * order: each batch is gathered into the workspace and checked before its
 * step, so X may be larger than memory (a memory map) and is never copied
 * whole.  The workspace must hold a batch of batch_size rows.  *loss_sum
 * receives the sum over batches of loss * rows (loss * the batch's weight
 * sum, with weights), *n_correct the total of n_correct.  On an error
 * (PYNN_ERR_DIVERGED, or a bad value in a gathered batch) the batches
 * before the failing one have been applied (opt->step says how many
 * updates were made in all) and *loss_sum covers those batches. */
int pynn_train_rows_f32(const pynn_net *net, pynn_optimizer *opt, int64_t n_rows, int64_t batch_size, const float *X, const float *y, const int64_t *labels, const float *weights, int64_t n_data, const int64_t *index, double *loss_sum, double *n_correct);
int pynn_train_rows_f64(const pynn_net *net, pynn_optimizer *opt, int64_t n_rows, int64_t batch_size, const double *X, const double *y, const int64_t *labels, const double *weights, int64_t n_data, const int64_t *index, double *loss_sum, double *n_correct);

/* END CDEF */

#ifdef __cplusplus
}
#endif

#endif /* PYNN_H */
