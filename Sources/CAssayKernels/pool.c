// A persistent pool for the decode kernels: `threads − 1` workers started once. A product is
// split into a few chunks per thread, which the caller and the workers claim one at a time until
// none is left, so a thread that another process holds off its core (a busy CI machine) leaves its
// share to the others instead of holding up the product. Between products workers spin for a
// short while (a decode step issues hundreds of small products; waking a sleeping thread costs
// tens of microseconds, more than many of those products take) and then sleep on a condition
// variable, so a long sgemm in OpenBLAS's own threads never competes with spinning workers.
#include "assay_kernels.h"
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define PAUSE() _mm_pause()
#else
#define PAUSE() ((void)0)
#endif

#define MAX_THREADS 256
#define SPINS 20000

// An ordered product's operands (assay_sgemm_ordered).
typedef struct {
    int64_t m, n, k;
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    int transposed;
    const float *start;
    float *c;
    int64_t ldc;
} ordered_t;

typedef struct {
    int kind;  // 0: gemv, 1: dequantize, 2: gemv over m activation rows, 3: f32 tiles against m rows, 4: ordered f32 product,
               // 5: integer products against m quantized rows, 6: tasks of a caller's function
    int type;
    const uint8_t *w;
    size_t row_bytes;
    int64_t k;
    const float *x;
    const void *xq;
    float *y;
    int64_t rows;
    int parts;
    int64_t m;            // kinds 2, 3 and 5: activation rows,
    size_t xq_row_bytes;  // their quantized rows' stride,
    int64_t ldy;          // and the output's row stride
    float *tiles;         // kind 3: one tile of 4 × tile_stride floats per part
    int64_t tile_stride;
    const ordered_t *ordered;  // kind 4: the product, its columns split (rows = its n)
    const float *terms;        // kind 5: the activations' block terms (assay_integer_terms),
    uint8_t *scratch;          // and unpacked weight rows, scratch_bytes per part, in groups of
    size_t scratch_bytes;      // `lanes` rows (8 or 16; 0: the portable kernel)
    int lanes;
    void (*task)(void *, int64_t, int);  // kind 6: called with `context`, each task (0 ..< rows)
    void *context;                       // and the part that runs it
    int chunks;                // set by run()
    const void *prepared;      // kinds 0 and 2: the activations rearranged for the AVX-512 kernels, once for all parts
} job_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static job_t job;
// A product's ticket: its generation in the high bits, its kind in bits 9–15 and how many threads
// take part (the caller included) in the low 9, published in one store, so a worker learns both
// without reading `job`, which the caller may already be rewriting for the next product.
static _Atomic uint64_t ticket;
#define PARTS(t) ((int)((t) & 0x1FF))
#define KIND(t) ((int)(((t) >> 9) & 0x7F))
// The current product's chunks: its generation (the ticket's) in the high 32 bits, the chunk
// count in the next 16 and the next chunk to claim in the low 16; and how many have finished.
static _Atomic uint64_t claims;
static atomic_int finished;
// Two per thread: on a quiet machine as fast as one part per thread (SmolLM2's small products lost
// 6 % with four); beside a busy process, decode a third to two thirds faster (docs/engine.md).
#define CHUNKS_PER_THREAD 2
static atomic_int sleepers;
static int started;                // workers running
static uint64_t start_ticket[MAX_THREADS];  // the ticket current when each worker was started
static pthread_mutex_t run_lock = PTHREAD_MUTEX_INITIALIZER;  // one product at a time
static atomic_int wanted;          // threads asked for (0: not set yet)
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
// More threads than whole CPUs to run them (`--threads` above the affinity mask, or a cgroup quota
// of 1.5 CPUs with two threads): a spinning thread would take the CPU (or the quota) from the one it
// waits for, so workers sleep at once between products and the caller yields while it waits
// (SmolLM2's decode, two threads under `taskset -c 0`: 4.3 tokens/s spinning).
static atomic_int oversubscribed;

// Row boundaries of matrix-vector chunks are even: rows go through the kernels in pairs from an
// even row, so every row is computed the same way whatever the chunks and threads.
static int64_t boundary(const job_t *j, int chunk) {
    if (chunk >= j->chunks) return j->rows;
    int64_t r = j->rows * chunk / j->chunks;
    if (j->kind == 4) return r & ~(int64_t)15;  // whole panels of 16 columns
    if (j->kind == 5) return r & ~(int64_t)15;  // whole groups of 8 or 16 rows
    return j->kind != 1 && j->kind != 6 ? r & ~(int64_t)1 : r;
}

#if ASSAY_X86
// Rows r0 ..< r1 against the activations prepared once for the product (prepare_once): quantized
// rows for the ggml kernels, or one f32 row split for the exact ones.
static void prepared_rows(const job_t *j, int64_t m, int64_t ldy, int64_t r0, int64_t r1) {
    if (j->xq) assay_ggml_rows_avx512_prepared(j->type, j->w, j->row_bytes, j->k, j->prepared, m, j->y + r0, ldy, r0, r1);
    else assay_exact_rows_avx512_prepared(j->type, j->w, j->row_bytes, j->k, j->prepared, j->y + r0, r0, r1);
}
#endif

// Rows r0 ..< r1 of every activation row through assay_gemv: a few weight rows at a time (an even
// count, about 16 KB) meet every activation row while they are in L1, so the weights are read
// from memory once, not m times.
static void gemv_rows(const job_t *j, int64_t r0, int64_t r1) {
#if ASSAY_X86
    if (j->prepared) {
        prepared_rows(j, j->m, j->ldy, r0, r1);
        return;
    }
    // Quantized activations of the common types: weight blocks unpacked once for several rows.
    if (j->xq && assay_simd_level() >= 1 &&
        assay_gemm_quantized_avx2(j->type, j->w, j->row_bytes, j->k, (const uint8_t *)j->xq, j->xq_row_bytes, j->m, j->y, j->ldy, r0, r1))
        return;
#endif
    int64_t step = (int64_t)(16384 / (j->row_bytes ? j->row_bytes : 1)) & ~(int64_t)1;
    if (step < 2) step = 2;
#if ASSAY_X86
    assay_transposed_memo(1);
#endif
    for (int64_t r = r0; r < r1; r += step) {
        int64_t end = r + step < r1 ? r + step : r1;
        for (int64_t a = 0; a < j->m; a++) {
            const float *x = j->x ? j->x + a * j->k : NULL;
            const uint8_t *xq = j->xq ? (const uint8_t *)j->xq + a * j->xq_row_bytes : NULL;
            assay_gemv(j->type, j->w, j->row_bytes, j->k, x, xq, j->y + a * j->ldy + r, r, end);
        }
    }
#if ASSAY_X86
    assay_transposed_memo(0);
#endif
}

// Set while this thread runs a caller's tasks (kind 6): tasks and products that a task asks for
// run on its thread alone (the pool runs one job at a time; enter()).
static _Thread_local int inside_task;

// Chunk `chunk` of `j` on thread `part` (0: the caller).
static void run_part(const job_t *j, int chunk, int part) {
    int64_t r0 = boundary(j, chunk), r1 = boundary(j, chunk + 1);
    if (r0 >= r1) return;
    if (j->kind == 0) {
#if ASSAY_X86
        if (j->prepared) {
            prepared_rows(j, 1, 0, r0, r1);
            return;
        }
#endif
        assay_gemv(j->type, j->w, j->row_bytes, j->k, j->x, j->xq, j->y + r0, r0, r1);
    } else if (j->kind == 2) {
        gemv_rows(j, r0, r1);
    } else if (j->kind == 3) {
        // Four weight rows at a time dequantized into an f32 tile (as a panel would hold them),
        // which meets every activation row while it is in cache: each weight block is converted
        // once, not once per activation row as the matrix-vector kernels would.
        float *tile = j->tiles + (size_t)part * (size_t)(4 * j->tile_stride);
        for (int64_t r = r0; r < r1; r += 4) {
            int64_t n = r + 4 < r1 ? 4 : r1 - r;
            assay_dequantize_row(j->type, j->w + (size_t)r * j->row_bytes, tile, n * j->k);
            assay_gemm_tile(tile, n, j->k, j->x, j->m, j->y + r, j->ldy);
        }
    } else if (j->kind == 5) {
#if ASSAY_X86
        if (j->scratch) {
            assay_gemm_integer_rows_simd(j->lanes, j->type, j->w, j->row_bytes, j->k, (const uint8_t *)j->xq, j->xq_row_bytes, j->terms, j->m,
                                         j->y, j->ldy, r0, r1, j->scratch + (size_t)part * j->scratch_bytes);
            return;
        }
#endif
        assay_gemm_integer_rows_portable(j->type, j->w, j->row_bytes, j->k, (const uint8_t *)j->xq, j->xq_row_bytes, j->m, j->y, j->ldy,
                                         r0, r1);
    } else if (j->kind == 6) {
        int outer = inside_task;
        inside_task = 1;
        for (int64_t t = r0; t < r1; t++) j->task(j->context, t, part);
        inside_task = outer;
    } else if (j->kind == 4) {
        const ordered_t *o = j->ordered;
        assay_sgemm_ordered_columns(o->m, o->k, o->a, o->lda, o->b, o->ldb, o->transposed, o->start, o->c, o->ldc, r0, r1);
    } else {
        assay_dequantize_row(j->type, j->w + (size_t)r0 * j->row_bytes, j->y + r0 * j->k, (r1 - r0) * j->k);
    }
}

// Claims and runs chunks of product `generation` (`j`, read before the first claim) until none is
// left. (The generation is the ticket's low 32 bits: a worker would have to stall between reading
// the ticket and claiming for 2^32 products to mistake one product for another.)
static void take_chunks(const job_t *j, uint32_t generation, int part) {
    for (;;) {
        uint64_t c = atomic_load_explicit(&claims, memory_order_acquire);
        if ((uint32_t)(c >> 32) != generation || (c & 0xFFFF) >= ((c >> 16) & 0xFFFF)) return;
        if (!atomic_compare_exchange_weak_explicit(&claims, &c, c + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        run_part(j, (int)(c & 0xFFFF), part);
        atomic_fetch_add_explicit(&finished, 1, memory_order_release);
    }
}

static void *worker(void *arg) {
    int index = (int)(intptr_t)arg;  // part index: 1 … threads − 1
    // The ticket current when this worker was created (it may first run after the next product
    // has begun, which it must still take part in).
    uint64_t seen = start_ticket[index];
    int spin_limit = SPINS;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&ticket, memory_order_acquire) == seen && spins < spin_limit) { PAUSE(); spins++; }
        if (atomic_load_explicit(&ticket, memory_order_acquire) == seen) {
            pthread_mutex_lock(&lock);
            atomic_fetch_add(&sleepers, 1);
            while (atomic_load(&ticket) == seen) pthread_cond_wait(&wake, &lock);
            atomic_fetch_sub(&sleepers, 1);
            pthread_mutex_unlock(&lock);
        }
        seen = atomic_load_explicit(&ticket, memory_order_acquire);
        if (index >= PARTS(seen)) {
            // Not needed for this product (fewer threads asked for than started): sleep.
            spin_limit = 0;
            continue;
        }
        // `job` is this ticket's product unless all of its chunks have already been taken and
        // the caller has moved on (a copy that races with the caller's next write); only a
        // successful claim in take_chunks, which proves the former, lets the copy be used.
        job_t j = job;
        take_chunks(&j, (uint32_t)(seen >> 16), index);
        // A dequantized panel goes to sgemm next, on OpenBLAS's threads: sleep at once instead
        // of spinning against them. Decode products come in quick succession: spin.
        spin_limit = KIND(seen) == 1 || atomic_load_explicit(&oversubscribed, memory_order_relaxed) ? 0 : SPINS;
    }
    return NULL;
}

static int default_threads(void) {
    int n = assay_available_cpus();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

void assay_set_threads(int n) {
    pthread_mutex_lock(&start_lock);
    wanted = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : n);
    pthread_mutex_unlock(&start_lock);
}

int assay_threads(void) {
    int asked = atomic_load(&wanted);
    return asked > 0 ? asked : default_threads();
}

// Starts workers up to the threads wanted (never stops any: a smaller count leaves the extra
// workers idle, asleep after their spin).
static int ensure_workers(void) {
    int threads = assay_threads();
    pthread_mutex_lock(&start_lock);
    while (started < threads - 1) {
        pthread_t thread;
        pthread_attr_t attributes;
        start_ticket[started + 1] = atomic_load(&ticket);
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker, (void *)(intptr_t)(started + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    int usable = started + 1 < threads ? started + 1 : threads;
    atomic_store_explicit(&oversubscribed, usable > assay_whole_cpus(), memory_order_relaxed);
    pthread_mutex_unlock(&start_lock);
    return usable;
}

// A product's threads: the pool's (run_lock taken, workers started), or, from inside a caller's
// task, this thread alone (the pool is busy with the job that runs the task; run() with one part
// touches nothing shared). leave() after the product.
static int enter(void) {
    if (inside_task) return 1;
    pthread_mutex_lock(&run_lock);
    return ensure_workers();
}
static void leave(void) {
    if (!inside_task) pthread_mutex_unlock(&run_lock);
}

// Runs `j` with run_lock held by the caller (or on this thread alone: one part).
static void run(job_t *j) {
    if (j->parts <= 1) {
        j->chunks = 1;
        run_part(j, 0, 0);
        return;
    }
    // Chunks on whole units: row pairs (matrix-vector kinds), panels of 16 columns (ordered products),
    // groups of sixteen rows (integer products), rows.
    int64_t units = j->kind == 4   ? (j->rows + 15) / 16
                    : j->kind == 5 ? (j->rows + 15) / 16
                    : j->kind == 1 || j->kind == 6 ? j->rows
                                   : (j->rows + 1) / 2;
    // Integer products take eight a thread: each chunk is milliseconds long (32 or more rows against
    // a whole prompt), and a thread that falls behind leaves less for the others to wait on.
    // A caller's tasks are claimed one at a time (a head's attention, a few rows of an
    // element-wise kernel: tens of microseconds or more).
    int64_t chunks = j->kind == 6 ? units : (int64_t)j->parts * (j->kind == 5 ? 8 : CHUNKS_PER_THREAD);
    if (chunks > units) chunks = units;
    if (chunks < j->parts) chunks = j->parts;
    if (chunks > 0xFFFF) chunks = 0xFFFF;
    j->chunks = (int)chunks;
    // Workers 1 … parts − 1 take part; the others see the ticket's part count and go back to sleep.
    job = *j;
    uint64_t generation = (atomic_load(&ticket) >> 16) + 1;
    atomic_store_explicit(&finished, 0, memory_order_relaxed);
    atomic_store_explicit(&claims, (generation & 0xFFFFFFFF) << 32 | (uint64_t)chunks << 16, memory_order_relaxed);
    atomic_store_explicit(&ticket, generation << 16 | (uint64_t)j->kind << 9 | (uint64_t)j->parts, memory_order_seq_cst);
    if (atomic_load(&sleepers) > 0) {
        pthread_mutex_lock(&lock);
        pthread_cond_broadcast(&wake);
        pthread_mutex_unlock(&lock);
    }
    take_chunks(j, (uint32_t)generation, 0);
    int yield = atomic_load_explicit(&oversubscribed, memory_order_relaxed);
    while (atomic_load_explicit(&finished, memory_order_acquire) < chunks) {
        if (yield) sched_yield(); else PAUSE();
    }
}

// The activations of a product rearranged once for all its parts when the AVX-512 kernels take
// its type: quantized rows (ggml numerics), or one f32 row split into limbs (exact numerics). NULL
// otherwise, without memory, or when the split cannot carry a value: each part then prepares its own
// or takes the float kernels.
static void *prepare_once(int type, int64_t k, const float *x, const void *xq, size_t xq_row_bytes, int64_t m) {
#if ASSAY_X86
    if (assay_simd_level() < 1) return NULL;
    size_t bytes = xq ? assay_ggml_prepared_bytes(type, k, m) : x && m == 1 ? assay_exact_prepared_bytes(type, k) : 0;
    void *g = bytes ? aligned_alloc(64, bytes) : NULL;
    if (g && xq) assay_ggml_prepare_avx512(type, k, (const uint8_t *)xq, xq_row_bytes, m, g);
    if (g && !xq && !assay_exact_prepare_avx512(type, k, x, g)) {
        free(g);
        g = NULL;
    }
    return g;
#else
    (void)type, (void)k, (void)x, (void)xq, (void)xq_row_bytes, (void)m;
    return NULL;
#endif
}

void assay_gemv_parallel(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq, float *y,
                         int64_t rows, size_t min_bytes_per_part) {
    // Callers on several threads take turns; workers start under the same lock, so a product
    // never counts a worker that joined while it ran.
    int threads = enter();
    size_t total = (size_t)rows * row_bytes;
    int parts = threads;
    if (min_bytes_per_part > 0 && total / min_bytes_per_part < (size_t)parts) parts = (int)(total / min_bytes_per_part);
    if (parts > rows) parts = (int)rows;
    if (parts < 1) parts = 1;
    job_t j = {0, type, (const uint8_t *)w, row_bytes, k, x, xq, y, rows, parts, 1, 0, 0, NULL, 0};
    void *prepared = prepare_once(type, k, x, xq, 0, 1);
    j.prepared = prepared;
    run(&j);
    free(prepared);
    leave();
}

void assay_dequantize_rows_parallel(int type, const void *w, size_t row_bytes, int64_t k, float *y, int64_t rows) {
    int threads = enter();
    int parts = rows < threads ? (int)rows : threads;
    if (parts < 1) parts = 1;
    job_t j = {1, type, (const uint8_t *)w, row_bytes, k, NULL, NULL, y, rows, parts, 1, 0, 0, NULL, 0};
    run(&j);
    leave();
}

void assay_gemm_rows_parallel(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq,
                              size_t xq_row_bytes, int64_t m, float *y, int64_t ldy, int64_t rows, size_t min_bytes_per_part) {
    int threads = enter();
    size_t total = (size_t)rows * row_bytes;
    int parts = threads;
    if (min_bytes_per_part > 0 && total / min_bytes_per_part < (size_t)parts) parts = (int)(total / min_bytes_per_part);
    if (parts > rows) parts = (int)rows;
    if (parts < 1) parts = 1;
    // f32 activations (exact numerics) against weights assay_dequantize_row converts fast:
    // dequantized tiles, one per part, allocated here so that the whole product takes them or
    // (only when no memory is left) none of it does.
    int64_t stride = (k + 7) & ~(int64_t)7;
    float *tiles = NULL;
    if (!xq && x && type != F32 && m > 1 && assay_fast_dequantize(type))
        tiles = aligned_alloc(32, (size_t)parts * (size_t)(4 * stride) * sizeof(float));
    job_t j = {tiles ? 3 : 2, type, (const uint8_t *)w, row_bytes, k, x, xq, y, rows, parts, m, xq_row_bytes, ldy, tiles, stride};
    void *prepared = tiles ? NULL : prepare_once(type, k, x, xq, xq_row_bytes, m);
    j.prepared = prepared;
    run(&j);
    free(prepared);
    free(tiles);
    leave();
}

void assay_sgemm_ordered(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                         const float *start, float *c, int64_t ldc, int threads) {
    if (m <= 0 || n <= 0) return;
    // Below about 4 MFLOP a hand-off costs more than a second thread saves.
    int64_t panels = (n + 15) / 16;
    if (threads <= 1 || panels < 2 || (double)m * (double)n * (double)k < 2e6) {
        assay_sgemm_ordered_columns(m, k, a, lda, b, ldb, transposed, start, c, ldc, 0, n);
        return;
    }
    int usable = enter();
    int parts = threads < usable ? threads : usable;
    if (parts > panels) parts = (int)panels;
    ordered_t o = {m, n, k, a, lda, b, ldb, transposed, start, c, ldc};
    job_t j = {4, F32, NULL, 0, k, NULL, NULL, NULL, n, parts, m, 0, ldc, NULL, 0, &o};
    run(&j);
    leave();
}

void assay_gemm_integer_parallel(int type, const void *w, size_t row_bytes, int64_t k, const void *xq, size_t xq_row_bytes,
                                 int64_t m, float *y, int64_t ldy, int64_t rows) {
    if (m <= 0 || rows <= 0) return;
    int threads = enter();
    int64_t groups = (rows + 15) / 16;
    int parts = groups < threads ? (int)groups : threads;
    // The activations' block terms once for every part, and each part's unpacked weight rows;
    // without memory for them (or without AVX2) the portable kernel gives the same bits.
    int lanes = assay_integer_lanes();
    float *terms = NULL;
    uint8_t *scratch = NULL;
    size_t scratch_bytes = lanes ? (assay_integer_scratch_bytes(type, lanes, k) + 63) & ~(size_t)63 : 0;
    if (lanes) {
        terms = malloc(assay_integer_terms_bytes(type, m, k) + 1);
        scratch = terms ? aligned_alloc(64, (size_t)parts * scratch_bytes) : NULL;
        if (terms && scratch) assay_integer_terms(type, (const uint8_t *)xq, xq_row_bytes, m, k, terms);
    }
    job_t j = {5, type, (const uint8_t *)w, row_bytes, k, NULL, xq, y, rows, parts, m, xq_row_bytes, ldy, NULL, 0, NULL,
               terms, scratch, scratch_bytes, lanes};
    run(&j);
    free(scratch);
    free(terms);
    leave();
}

void assay_parallel_tasks(int64_t count, int max_parts, void (*task)(void *context, int64_t task, int part), void *context) {
    if (count <= 0) return;
    int threads = enter();  // 1 inside a task: the tasks then run here, in order
    int parts = count < threads ? (int)count : threads;
    if (parts > max_parts) parts = max_parts < 1 ? 1 : max_parts;
    job_t j = {6, F32, NULL, 0, 0, NULL, NULL, NULL, count, parts, 0, 0, 0, NULL, 0, NULL, NULL, NULL, 0, 0, task, context};
    run(&j);
    leave();
}
