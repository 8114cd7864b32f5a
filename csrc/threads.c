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
 *
 * Threads, locks and atomics come from a small platform layer below: POSIX
 * threads, or on Windows the Win32 primitives (so MSVC needs no pthreads and
 * a mingw-w64 build imports no libwinpthread; .ci/platforms/mingw_wine
 * checks that, and runs this pool under Wine).
 */
/* ---- the platform layer: threads, locks, atomics, a spin hint ----
 *
 * Windows (MSVC, mingw-w64, clang-cl): Win32 slim reader/writer locks,
 * condition variables and _beginthreadex, so a mingw build imports no
 * libwinpthread.  Elsewhere POSIX threads. */
#if defined(_WIN32)
#if !defined(_WIN32_WINNT) || _WIN32_WINNT < 0x0601
#undef _WIN32_WINNT
#define _WIN32_WINNT 0x0601      /* Windows 7: TryAcquireSRWLockExclusive */
#endif
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <process.h>             /* _beginthreadex */
#else
/* pthreads are POSIX; ask for them explicitly under -std=c99 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#endif
#include <stdlib.h>

#include "common.h"

#if defined(_WIN32)
typedef HANDLE pynn_thread;
typedef SRWLOCK pynn_mutex;
typedef CONDITION_VARIABLE pynn_cond;
#define PYNN_THREAD_FN(name, arg) unsigned __stdcall name(void *arg)
#define PYNN_THREAD_RETURN 0

static void mutex_init(pynn_mutex *m) { InitializeSRWLock(m); }
static void mutex_destroy(pynn_mutex *m) { (void)m; }  /* an SRW lock holds no resources */
static void mutex_lock(pynn_mutex *m) { AcquireSRWLockExclusive(m); }
static int mutex_trylock(pynn_mutex *m) { return TryAcquireSRWLockExclusive(m) != 0; }
static void mutex_unlock(pynn_mutex *m) { ReleaseSRWLockExclusive(m); }
static void cond_init(pynn_cond *c) { InitializeConditionVariable(c); }
static void cond_destroy(pynn_cond *c) { (void)c; }
static void cond_wait(pynn_cond *c, pynn_mutex *m) { SleepConditionVariableSRW(c, m, INFINITE, 0); }
static void cond_signal(pynn_cond *c) { WakeConditionVariable(c); }
static void cond_broadcast(pynn_cond *c) { WakeAllConditionVariable(c); }

static int thread_start(pynn_thread *t, unsigned (__stdcall *fn)(void *), void *arg)
{
    const uintptr_t h = _beginthreadex(NULL, 0, fn, arg, 0, NULL);
    if (h == 0) return 0;
    *t = (HANDLE)h;
    return 1;
}

static void thread_join(pynn_thread t)
{
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
}

static inline void pynn_cpu_relax(void) { YieldProcessor(); }
#else
typedef pthread_t pynn_thread;
typedef pthread_mutex_t pynn_mutex;
typedef pthread_cond_t pynn_cond;
#define PYNN_THREAD_FN(name, arg) void *name(void *arg)
#define PYNN_THREAD_RETURN NULL

static void mutex_init(pynn_mutex *m) { pthread_mutex_init(m, NULL); }
static void mutex_destroy(pynn_mutex *m) { pthread_mutex_destroy(m); }
static void mutex_lock(pynn_mutex *m) { pthread_mutex_lock(m); }
static int mutex_trylock(pynn_mutex *m) { return pthread_mutex_trylock(m) == 0; }
static void mutex_unlock(pynn_mutex *m) { pthread_mutex_unlock(m); }
static void cond_init(pynn_cond *c) { pthread_cond_init(c, NULL); }
static void cond_destroy(pynn_cond *c) { pthread_cond_destroy(c); }
static void cond_wait(pynn_cond *c, pynn_mutex *m) { pthread_cond_wait(c, m); }
static void cond_signal(pynn_cond *c) { pthread_cond_signal(c); }
static void cond_broadcast(pynn_cond *c) { pthread_cond_broadcast(c); }

static int thread_start(pynn_thread *t, void *(*fn)(void *), void *arg)
{
    return pthread_create(t, NULL, fn, arg) == 0;
}

static void thread_join(pynn_thread t) { pthread_join(t, NULL); }

static inline void pynn_cpu_relax(void)
{
#if PYNN_X86
    __builtin_ia32_pause();
#elif PYNN_NEON && (defined(__GNUC__) || defined(__clang__))
    __asm__ __volatile__("yield");
#endif
}
#endif

/* Atomics for the two counters the threads poll without the lock (the
 * spin-waits below): a load sees a whole value, never a torn one, and
 * orders later reads (acquire); a store orders earlier writes (release).
 * Every store is also made under pool->lock, and every decision a poll
 * leads to is re-checked under it, so the lock gives the real ordering.
 *   GCC, clang: the __atomic builtins (C11's memory model, in C99 mode).
 *   MSVC: Interlocked* (full barriers) for stores and for 64-bit loads on
 *     32-bit x86; an aligned volatile load for the rest, which is atomic
 *     on every Windows target, followed by a barrier.
 *   Other C11 compilers: <stdatomic.h>. */
#if defined(__GNUC__) || defined(__clang__)
#define PYNN_ATOMIC(T) T
static inline int32_t atomic_load_i32(const PYNN_ATOMIC(int32_t) *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint64_t atomic_load_u64(const PYNN_ATOMIC(uint64_t) *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void atomic_store_i32(PYNN_ATOMIC(int32_t) *p, int32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void atomic_store_u64(PYNN_ATOMIC(uint64_t) *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
#elif defined(_MSC_VER)
#define PYNN_ATOMIC(T) volatile T
static inline int32_t atomic_load_i32(const PYNN_ATOMIC(int32_t) *p)
{
    const int32_t v = *p;
    MemoryBarrier();
    return v;
}
static inline uint64_t atomic_load_u64(const PYNN_ATOMIC(uint64_t) *p)
{
#if defined(_M_IX86)
    return (uint64_t)InterlockedCompareExchange64((volatile LONG64 *)p, 0, 0);
#else
    const uint64_t v = *p;
    MemoryBarrier();
    return v;
#endif
}
static inline void atomic_store_i32(PYNN_ATOMIC(int32_t) *p, int32_t v) { InterlockedExchange((volatile LONG *)p, (LONG)v); }
static inline void atomic_store_u64(PYNN_ATOMIC(uint64_t) *p, uint64_t v) { InterlockedExchange64((volatile LONG64 *)p, (LONG64)v); }
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L && !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define PYNN_ATOMIC(T) _Atomic T
static inline int32_t atomic_load_i32(const PYNN_ATOMIC(int32_t) *p) { return atomic_load_explicit(p, memory_order_acquire); }
static inline uint64_t atomic_load_u64(const PYNN_ATOMIC(uint64_t) *p) { return atomic_load_explicit(p, memory_order_acquire); }
static inline void atomic_store_i32(PYNN_ATOMIC(int32_t) *p, int32_t v) { atomic_store_explicit(p, v, memory_order_release); }
static inline void atomic_store_u64(PYNN_ATOMIC(uint64_t) *p, uint64_t v) { atomic_store_explicit(p, v, memory_order_release); }
#else
#error "pynn's thread pool needs GCC/clang __atomic builtins, MSVC or C11 <stdatomic.h>"
#endif

/* Polling rounds before a thread sleeps on a condition variable (~20 us). */
#define PYNN_SPIN 4000

struct pynn_pool {
    int32_t n_threads;           /* workers + the caller */
    pynn_thread *workers;        /* n_threads - 1 */
    pynn_mutex busy;             /* held by the caller of a parallel run */
    pynn_mutex lock;             /* guards everything below */
    pynn_cond start, done;
    pynn_task_fn fn;
    void *ctx;
    int32_t n_parts;
    PYNN_ATOMIC(int32_t) pending;     /* workers still running the current job */
    PYNN_ATOMIC(uint64_t) generation; /* bumped for each job */
    int stop;
};

typedef struct {
    pynn_pool *pool;
    int32_t index;               /* 1 .. n_threads - 1: the part this worker runs */
} worker_arg;

static PYNN_THREAD_FN(worker_main, p)
{
    worker_arg arg = *(worker_arg *)p;
    pynn_pool *pool = arg.pool;
    uint64_t seen = 0;
    free(p);
    for (;;) {
        /* jobs come in bursts (a few products per training step): poll a
         * little before sleeping, so the next one starts without a wake-up */
        for (int spin = 0; spin < PYNN_SPIN && atomic_load_u64(&pool->generation) == seen; spin++)
            pynn_cpu_relax();
        mutex_lock(&pool->lock);
        while (atomic_load_u64(&pool->generation) == seen && !pool->stop) cond_wait(&pool->start, &pool->lock);
        if (pool->stop) { mutex_unlock(&pool->lock); return PYNN_THREAD_RETURN; }
        seen = atomic_load_u64(&pool->generation);
        pynn_task_fn fn = pool->fn;
        void *ctx = pool->ctx;
        int32_t n_parts = pool->n_parts;
        mutex_unlock(&pool->lock);

        if (arg.index < n_parts) fn(ctx, arg.index, n_parts);

        mutex_lock(&pool->lock);  /* every change of pending is made under the lock */
        const int32_t left = atomic_load_i32(&pool->pending) - 1;
        atomic_store_i32(&pool->pending, left);
        if (left == 0) cond_signal(&pool->done);
        mutex_unlock(&pool->lock);
    }
}

pynn_pool *pynn_pool_create(int32_t n_threads)
{
    pynn_pool *pool;
    if (n_threads < 1 || n_threads > 1024) return NULL;
    pool = (pynn_pool *)calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    pool->n_threads = 1;
    mutex_init(&pool->busy);
    mutex_init(&pool->lock);
    cond_init(&pool->start);
    cond_init(&pool->done);
    if (n_threads > 1) {
        pool->workers = (pynn_thread *)calloc((size_t)n_threads - 1, sizeof(pynn_thread));
        if (pool->workers == NULL) { pynn_pool_destroy(pool); return NULL; }
        for (int32_t i = 1; i < n_threads; i++) {
            worker_arg *arg = (worker_arg *)malloc(sizeof *arg);
            if (arg == NULL) break;
            arg->pool = pool;
            arg->index = i;
            if (!thread_start(&pool->workers[i - 1], worker_main, arg)) { free(arg); break; }
            pool->n_threads = i + 1;  /* as many as could be started */
        }
    }
    return pool;
}

void pynn_pool_destroy(pynn_pool *pool)
{
    if (pool == NULL) return;
    mutex_lock(&pool->lock);
    pool->stop = 1;
    cond_broadcast(&pool->start);
    mutex_unlock(&pool->lock);
    for (int32_t i = 1; i < pool->n_threads; i++) thread_join(pool->workers[i - 1]);
    cond_destroy(&pool->start);
    cond_destroy(&pool->done);
    mutex_destroy(&pool->lock);
    mutex_destroy(&pool->busy);
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
        || !mutex_trylock(&pool->busy)) {
        for (int32_t part = 0; part < n_parts; part++) fn(ctx, part, n_parts);
        return;
    }
    mutex_lock(&pool->lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_parts = n_parts;
    atomic_store_i32(&pool->pending, pool->n_threads - 1);
    atomic_store_u64(&pool->generation, atomic_load_u64(&pool->generation) + 1);
    cond_broadcast(&pool->start);
    mutex_unlock(&pool->lock);

    fn(ctx, 0, n_parts);

    for (int spin = 0; spin < PYNN_SPIN && atomic_load_i32(&pool->pending) > 0; spin++)
        pynn_cpu_relax();
    mutex_lock(&pool->lock);
    while (atomic_load_i32(&pool->pending) > 0) cond_wait(&pool->done, &pool->lock);
    mutex_unlock(&pool->lock);
    mutex_unlock(&pool->busy);
}
