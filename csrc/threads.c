/* A small pool of worker threads for the large products.
 *
 * Python creates one pool per process (pynn_pool_create) and hands it to the
 * kernels through pynn_net.pool; the kernels never create threads
 * themselves.  pynn_pool_run(pool, fn, ctx, n) calls fn(ctx, part, n) for
 * part 0..n-1: part 0 on the calling thread, the others on workers.  The
 * parts must write disjoint outputs; because each part's arithmetic does not
 * depend on which thread runs it, results are bit-identical however many
 * threads there are.
 *
 * One caller at a time uses the workers.  A second thread calling while the
 * pool is busy (two networks trained from two Python threads) runs its parts
 * one after the other itself: same results, no waiting, no deadlock.
 *
 * After fork() the child has none of the workers; Python drops its pool in
 * the child (os.register_at_fork) and makes a new one, so training in a
 * child works.  The old pool's memory is left alone there, never joined.
 */
/* pthreads are POSIX; ask for them explicitly under -std=c99 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdlib.h>

#include "common.h"

/* Polling rounds before a thread sleeps on a condition variable (~20 us). */
#define PYNN_SPIN 4000

static inline void pynn_cpu_relax(void)
{
#if PYNN_X86
    __builtin_ia32_pause();
#endif
}

struct pynn_pool {
    int32_t n_threads;           /* workers + the caller */
    pthread_t *workers;          /* n_threads - 1 */
    pthread_mutex_t busy;        /* held by the caller of a parallel run */
    pthread_mutex_t lock;        /* guards everything below */
    pthread_cond_t start, done;
    pynn_task_fn fn;
    void *ctx;
    int32_t n_parts;
    int32_t pending;             /* workers still running the current job */
    uint64_t generation;         /* bumped for each job */
    int stop;
};

typedef struct {
    pynn_pool *pool;
    int32_t index;               /* 1 .. n_threads - 1: the part this worker runs */
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg arg = *(worker_arg *)p;
    pynn_pool *pool = arg.pool;
    uint64_t seen = 0;
    free(p);
    for (;;) {
        /* jobs come in bursts (a few products per training step): poll a
         * little before sleeping, so the next one starts without a wake-up */
        for (int spin = 0; spin < PYNN_SPIN && __atomic_load_n(&pool->generation, __ATOMIC_ACQUIRE) == seen; spin++)
            pynn_cpu_relax();
        pthread_mutex_lock(&pool->lock);
        while (pool->generation == seen && !pool->stop) pthread_cond_wait(&pool->start, &pool->lock);
        if (pool->stop) { pthread_mutex_unlock(&pool->lock); return NULL; }
        seen = pool->generation;
        pynn_task_fn fn = pool->fn;
        void *ctx = pool->ctx;
        int32_t n_parts = pool->n_parts;
        pthread_mutex_unlock(&pool->lock);

        if (arg.index < n_parts) fn(ctx, arg.index, n_parts);

        pthread_mutex_lock(&pool->lock);
        if (__atomic_sub_fetch(&pool->pending, 1, __ATOMIC_ACQ_REL) == 0) pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->lock);
    }
}

pynn_pool *pynn_pool_create(int32_t n_threads)
{
    pynn_pool *pool;
    if (n_threads < 1 || n_threads > 1024) return NULL;
    pool = (pynn_pool *)calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->n_threads = 1;
    pthread_mutex_init(&pool->busy, NULL);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->start, NULL);
    pthread_cond_init(&pool->done, NULL);
    if (n_threads > 1) {
        pool->workers = (pthread_t *)calloc((size_t)n_threads - 1, sizeof(pthread_t));
        if (pool->workers == NULL) { pynn_pool_destroy(pool); return NULL; }
        for (int32_t i = 1; i < n_threads; i++) {
            worker_arg *arg = (worker_arg *)malloc(sizeof *arg);
            if (arg == NULL) break;
            arg->pool = pool;
            arg->index = i;
            if (pthread_create(&pool->workers[i - 1], NULL, worker_main, arg) != 0) { free(arg); break; }
            pool->n_threads = i + 1;  /* as many as could be started */
        }
    }
    return pool;
}

void pynn_pool_destroy(pynn_pool *pool)
{
    if (pool == NULL) return;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);
    for (int32_t i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i - 1], NULL);
    pthread_cond_destroy(&pool->start);
    pthread_cond_destroy(&pool->done);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->busy);
    free(pool->workers);
    free(pool);
}

int32_t pynn_pool_size(const pynn_pool *pool)
{
    return pool ? pool->n_threads : 1;
}

void pynn_pool_run(pynn_pool *pool, pynn_task_fn fn, void *ctx, int32_t n_parts)
{
    if (pool == NULL || pool->n_threads == 1 || n_parts <= 1 || n_parts > pool->n_threads
        || pthread_mutex_trylock(&pool->busy) != 0) {
        for (int32_t part = 0; part < n_parts; part++) fn(ctx, part, n_parts);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_parts = n_parts;
    __atomic_store_n(&pool->pending, pool->n_threads - 1, __ATOMIC_RELEASE);
    __atomic_store_n(&pool->generation, pool->generation + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&pool->start);
    pthread_mutex_unlock(&pool->lock);

    fn(ctx, 0, n_parts);

    for (int spin = 0; spin < PYNN_SPIN && __atomic_load_n(&pool->pending, __ATOMIC_ACQUIRE) > 0; spin++)
        pynn_cpu_relax();
    pthread_mutex_lock(&pool->lock);
    while (pool->pending > 0) pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
    pthread_mutex_unlock(&pool->busy);
}
