// Ordered f32 matrix products for the encoder: C += A · op(B) where every output is one chain of
// fused multiply-adds over k = 0, 1, …, k − 1 starting from its value in C. Nothing else enters
// an output's sum — not the number of rows in the product, the rows around it, how the columns
// are split between threads, the cache blocking or the SIMD level (the AVX2 kernel's lanes and
// the portable loop's fmaf round alike) — so an encoder's embedding of a text is the same bits
// whichever texts share its batch, which shard computes it and how many cores the machine has.
//
// Both paths are Goto's: B is packed in blocks of KC × NC into panels of 16 columns, k-major, and
// a 6 × 16 register block of accumulators (twelve ymm with AVX2, an array of fmaf chains in the
// portable C) meets each panel, A's values broadcast one at a time. Blocking k only stores the
// chain's value in C and loads it again.
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

#define KC 512
#define NC 768
#define MR 6
#define NR 16

// One thread's packing buffer (KC × NC floats), kept for the thread's life and freed when it
// exits: encoders run many small products (attention, per head and sequence) that must not
// allocate each time.
static pthread_key_t buffer_key;
static pthread_once_t buffer_once = PTHREAD_ONCE_INIT;

static void make_buffer_key(void) { pthread_key_create(&buffer_key, free); }

static float *packing_buffer(void) {
    pthread_once(&buffer_once, make_buffer_key);
    float *buffer = pthread_getspecific(buffer_key);
    if (!buffer) {
        buffer = aligned_alloc(32, (size_t)KC * NC * sizeof(float));
        if (buffer && pthread_setspecific(buffer_key, buffer) != 0) {
            free(buffer);
            buffer = NULL;
        }
    }
    return buffer;
}

// Columns j0 ..< j0 + nb and depths k0 ..< k0 + kb of op(B) into panels of NR columns, k-major;
// columns past nb are zero.
static void pack(const float *b, int64_t ldb, int transposed, int64_t j0, int64_t nb, int64_t k0, int64_t kb, float *out) {
    for (int64_t p = 0; p < nb; p += NR) {
        float *panel = out + p * kb;
        int64_t cols = nb - p < NR ? nb - p : NR;
        if (transposed) {
            // op(B)[kk][j] = b[j · ldb + kk]: each column is a row of b.
            for (int64_t jj = 0; jj < cols; jj++) {
                const float *row = b + (j0 + p + jj) * ldb + k0;
                for (int64_t kk = 0; kk < kb; kk++) panel[kk * NR + jj] = row[kk];
            }
        } else {
            for (int64_t kk = 0; kk < kb; kk++) {
                const float *row = b + (k0 + kk) * ldb + j0 + p;
                for (int64_t jj = 0; jj < cols; jj++) panel[kk * NR + jj] = row[jj];
            }
        }
        if (cols < NR)
            for (int64_t kk = 0; kk < kb; kk++)
                for (int64_t jj = cols; jj < NR; jj++) panel[kk * NR + jj] = 0;
    }
}

// The register block's work: rows (≤ MR) × cols (≤ NR) outputs at c += a (rows × kb, lda) ·
// panel (kb × NR, k-major).
typedef void (*block_fn)(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, float *c, int64_t ldc, int64_t cols);

// Goto's loops: B packed a KC × NC block at a time, every MR rows of A against each panel.
static void blocked(block_fn block, int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                    float *c, int64_t ldc, int64_t j0, int64_t j1, float *packed) {
    for (int64_t jb = j0; jb < j1; jb += NC) {
        int64_t nb = j1 - jb < NC ? j1 - jb : NC;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kb = k - k0 < KC ? k - k0 : KC;
            pack(b, ldb, transposed, jb, nb, k0, kb, packed);
            for (int64_t i = 0; i < m; i += MR) {
                int64_t rows = m - i < MR ? m - i : MR;
                for (int64_t p = 0; p < nb; p += NR)
                    block(rows, kb, a + i * lda + k0, lda, packed + p * kb, c + i * ldc + jb + p, ldc, nb - p < NR ? nb - p : NR);
            }
        }
    }
}

// MARK: - Portable

// The same chains in C: fmaf rounds once, as vfmadd does; the NR independent chains of a row let
// the compiler use the target's vector fused multiply-adds where it has them.
static void block_portable(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, float *c, int64_t ldc,
                           int64_t cols) {
    float acc[MR][NR];
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < NR; j++) acc[r][j] = j < cols ? c[r * ldc + j] : 0;
    for (int64_t kk = 0; kk < kb; kk++) {
        const float *w = panel + kk * NR;
        for (int64_t r = 0; r < rows; r++) {
            float x = a[r * lda + kk];
            for (int64_t j = 0; j < NR; j++) acc[r][j] = fmaf(x, w[j], acc[r][j]);
        }
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) c[r * ldc + j] = acc[r][j];
}

// Without a packing buffer (out of memory): each output's chain on its own.
static void ordered_unpacked(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed, float *c,
                             int64_t ldc, int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            float acc = c[i * ldc + j];
            for (int64_t kk = 0; kk < k; kk++)
                acc = fmaf(a[i * lda + kk], transposed ? b[j * ldb + kk] : b[kk * ldb + j], acc);
            c[i * ldc + j] = acc;
        }
    }
}

// MARK: - AVX2

#if ASSAY_X86
#define AVX2 __attribute__((target("avx2,fma")))

// rows (≤ MR) × cols (≤ NR) outputs at c += a (rows × kb, lda) · panel (kb × NR).
AVX2 static inline __attribute__((always_inline)) void block(const int rows, int64_t kb, const float *a, int64_t lda,
                                                              const float *panel, float *c, int64_t ldc, int64_t cols) {
    __m256 acc[MR][2];
    float edge[MR][NR] __attribute__((aligned(32)));
    for (int r = 0; r < rows; r++) {
        if (cols == NR) {
            acc[r][0] = _mm256_loadu_ps(c + r * ldc);
            acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
        } else {
            for (int64_t j = 0; j < NR; j++) edge[r][j] = j < cols ? c[r * ldc + j] : 0;
            acc[r][0] = _mm256_load_ps(edge[r]);
            acc[r][1] = _mm256_load_ps(edge[r] + 8);
        }
    }
    for (int64_t kk = 0; kk < kb; kk++) {
        __m256 b0 = _mm256_load_ps(panel + kk * NR), b1 = _mm256_load_ps(panel + kk * NR + 8);
        for (int r = 0; r < rows; r++) {
            __m256 x = _mm256_broadcast_ss(a + r * lda + kk);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        if (cols == NR) {
            _mm256_storeu_ps(c + r * ldc, acc[r][0]);
            _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
        } else {
            _mm256_store_ps(edge[r], acc[r][0]);
            _mm256_store_ps(edge[r] + 8, acc[r][1]);
            for (int64_t j = 0; j < cols; j++) c[r * ldc + j] = edge[r][j];
        }
    }
}

// block() with the row count a constant, so that the accumulators stay in registers.
AVX2 static void block_avx2(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, float *c, int64_t ldc, int64_t cols) {
    switch (rows) {
    case 6: block(6, kb, a, lda, panel, c, ldc, cols); break;
    case 5: block(5, kb, a, lda, panel, c, ldc, cols); break;
    case 4: block(4, kb, a, lda, panel, c, ldc, cols); break;
    case 3: block(3, kb, a, lda, panel, c, ldc, cols); break;
    case 2: block(2, kb, a, lda, panel, c, ldc, cols); break;
    default: block(1, kb, a, lda, panel, c, ldc, cols); break;
    }
}
#endif

// Columns j0 ..< j1 of the product on this thread.
void assay_sgemm_ordered_columns(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                                 int transposed, float *c, int64_t ldc, int64_t j0, int64_t j1) {
    (void)n;
    if (m <= 0 || j1 <= j0 || k <= 0) return;
    float *packed = packing_buffer();
    if (!packed) {
        ordered_unpacked(m, k, a, lda, b, ldb, transposed, c, ldc, j0, j1);
        return;
    }
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        blocked(block_avx2, m, k, a, lda, b, ldb, transposed, c, ldc, j0, j1, packed);
        return;
    }
#endif
    blocked(block_portable, m, k, a, lda, b, ldb, transposed, c, ldc, j0, j1, packed);
}
