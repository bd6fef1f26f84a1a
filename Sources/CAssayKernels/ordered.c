// Ordered f32 matrix products for the encoder: C = S + A · op(B) where every output is one chain
// of fused multiply-adds over k = 0, 1, …, k − 1 starting from its value in S (C itself, or a
// start row: a bias, or zeros). Nothing else enters
// an output's sum — not the number of rows in the product, the rows around it, how the columns
// are split between threads, the cache blocking or the SIMD level (the AVX-512 and AVX2 kernels'
// lanes and the portable loop's fmaf round alike) — so an encoder's embedding of a text is the
// same bits whichever texts share its batch, which shard computes it, how many cores the machine
// has and whether they have AVX-512 (NaN payloads aside: which NaN an operation with two of them
// returns differs between the kernels).
//
// All paths are Goto's: B is packed in blocks of KC × NC into panels of 16 columns, k-major, and
// a register block of accumulators meets them, A's values broadcast one at a time: 12 rows × two
// panels with AVX-512 (24 zmm), 6 rows × one panel with AVX2 (twelve ymm) and in the portable C
// (an array of fmaf chains). Blocking k only stores the chain's value in C and loads it again.
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

#define KC 512
#define NC 768
#define MR 6          // rows of A a register block takes: AVX2 and portable,
#define MR_AVX512 12  // AVX-512
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
        buffer = aligned_alloc(64, (size_t)KC * NC * sizeof(float));  // 64: whole AVX-512 loads
        if (buffer && pthread_setspecific(buffer_key, buffer) != 0) {
            free(buffer);
            buffer = NULL;
        }
    }
    return buffer;
}

#if ASSAY_X86
// Eight rows of b (8 depths each, from `rows[r] + kk`) transposed into eight panel rows of 8
// columns: out[t · NR + r] = rows[r][kk + t].
__attribute__((target("avx2"))) static inline void transpose8(const float *const rows[8], int64_t kk, float *out) {
    __m256 r0 = _mm256_loadu_ps(rows[0] + kk), r1 = _mm256_loadu_ps(rows[1] + kk), r2 = _mm256_loadu_ps(rows[2] + kk),
           r3 = _mm256_loadu_ps(rows[3] + kk), r4 = _mm256_loadu_ps(rows[4] + kk), r5 = _mm256_loadu_ps(rows[5] + kk),
           r6 = _mm256_loadu_ps(rows[6] + kk), r7 = _mm256_loadu_ps(rows[7] + kk);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE), u2 = _mm256_shuffle_ps(t1, t3, 0x44),
           u3 = _mm256_shuffle_ps(t1, t3, 0xEE), u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(out + 0 * NR, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(out + 1 * NR, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(out + 2 * NR, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(out + 3 * NR, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(out + 4 * NR, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(out + 5 * NR, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(out + 6 * NR, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(out + 7 * NR, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

// Columns j0 ..< j0 + nb and depths k0 ..< k0 + kb of op(B) into panels of NR columns, k-major;
// columns past nb are zero. (Copies only: how they are made changes no product.)
static void pack(const float *b, int64_t ldb, int transposed, int64_t j0, int64_t nb, int64_t k0, int64_t kb, float *out) {
    for (int64_t p = 0; p < nb; p += NR) {
        float *panel = out + p * kb;
        int64_t cols = nb - p < NR ? nb - p : NR;
#if ASSAY_X86
        if (transposed && cols == NR && assay_simd_level() >= 1) {
            // Whole panels in 8 × 8 transposes, the last depths (kb mod 8) one by one.
            const float *low[8], *high[8];
            for (int r = 0; r < 8; r++) {
                low[r] = b + (j0 + p + r) * ldb + k0;
                high[r] = b + (j0 + p + 8 + r) * ldb + k0;
            }
            int64_t kk = 0;
            for (; kk + 8 <= kb; kk += 8) {
                transpose8(low, kk, panel + kk * NR);
                transpose8(high, kk, panel + kk * NR + 8);
            }
            for (; kk < kb; kk++)
                for (int r = 0; r < 8; r++) {
                    panel[kk * NR + r] = low[r][kk];
                    panel[kk * NR + 8 + r] = high[r][kk];
                }
            continue;
        }
#endif
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

// The register block's work: rows (≤ the kernel's mr) × cols (≤ its width: one panel of NR, or two
// side by side) outputs at c = s + a (rows × kb) · panel (kb × NR, k-major; the next panel, when
// cols > NR, follows at panel + NR · kb), where s is the row `start` (the same for every row) or
// else c.
typedef void (*block_fn)(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, const float *start, float *c,
                         int64_t ldc, int64_t cols);

typedef struct {
    block_fn block;
    int64_t mr, width;  // rows and columns a block takes at most
} kernel_t;

// Goto's loops: B packed a KC × NC block at a time, every mr rows of A against each `width`
// columns of panels; the first block of k starts from `start` when given.
static void blocked(kernel_t kernel, int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                    const float *start, float *c, int64_t ldc, int64_t j0, int64_t j1, float *packed) {
    for (int64_t jb = j0; jb < j1; jb += NC) {
        int64_t nb = j1 - jb < NC ? j1 - jb : NC;
        for (int64_t k0 = 0; k0 < k; k0 += KC) {
            int64_t kb = k - k0 < KC ? k - k0 : KC;
            pack(b, ldb, transposed, jb, nb, k0, kb, packed);
            for (int64_t i = 0; i < m; i += kernel.mr) {
                int64_t rows = m - i < kernel.mr ? m - i : kernel.mr;
                for (int64_t p = 0; p < nb; p += kernel.width) {
                    const float *s = k0 == 0 && start ? start + jb + p : NULL;
                    int64_t cols = nb - p < kernel.width ? nb - p : kernel.width;
                    kernel.block(rows, kb, a + i * lda + k0, lda, packed + p * kb, s, c + i * ldc + jb + p, ldc, cols);
                }
            }
        }
    }
}

// MARK: - Portable

// The same chains in C: fmaf rounds once, as vfmadd does; the NR independent chains of a row let
// the compiler use the target's vector fused multiply-adds where it has them.
static void block_portable(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, const float *start, float *c,
                           int64_t ldc, int64_t cols) {
    float acc[MR][NR];
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < NR; j++) acc[r][j] = j < cols ? (start ? start[j] : c[r * ldc + j]) : 0;
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
static void ordered_unpacked(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                             const float *start, float *c, int64_t ldc, int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = j0; j < j1; j++) {
            float acc = start ? start[j] : c[i * ldc + j];
            for (int64_t kk = 0; kk < k; kk++)
                acc = fmaf(a[i * lda + kk], transposed ? b[j * ldb + kk] : b[kk * ldb + j], acc);
            c[i * ldc + j] = acc;
        }
    }
}

// MARK: - AVX2

#if ASSAY_X86
#define AVX2 __attribute__((target("avx2,fma")))

// rows (≤ MR) × cols (≤ NR) outputs at c = s + a (rows × kb, lda) · panel (kb × NR), s being the
// row `start` when given, else c.
AVX2 static inline __attribute__((always_inline)) void block(const int rows, int64_t kb, const float *a, int64_t lda,
                                                              const float *panel, const float *start, float *c, int64_t ldc,
                                                              int64_t cols) {
    __m256 acc[MR][2];
    float edge[MR][NR] __attribute__((aligned(32)));
    for (int r = 0; r < rows; r++) {
        if (start && cols == NR) {
            acc[r][0] = _mm256_loadu_ps(start);
            acc[r][1] = _mm256_loadu_ps(start + 8);
        } else if (start) {
            for (int64_t j = 0; j < NR; j++) edge[r][j] = j < cols ? start[j] : 0;
            acc[r][0] = _mm256_load_ps(edge[r]);
            acc[r][1] = _mm256_load_ps(edge[r] + 8);
        } else if (cols == NR) {
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
AVX2 static void block_avx2(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, const float *start, float *c,
                            int64_t ldc, int64_t cols) {
    switch (rows) {
    case 6: block(6, kb, a, lda, panel, start, c, ldc, cols); break;
    case 5: block(5, kb, a, lda, panel, start, c, ldc, cols); break;
    case 4: block(4, kb, a, lda, panel, start, c, ldc, cols); break;
    case 3: block(3, kb, a, lda, panel, start, c, ldc, cols); break;
    case 2: block(2, kb, a, lda, panel, start, c, ldc, cols); break;
    default: block(1, kb, a, lda, panel, start, c, ldc, cols); break;
    }
}

// MARK: - AVX-512

// Twelve rows against two panels (32 columns) a block: 24 accumulators of 16 lanes, the two
// panel rows and a broadcast in the 32 registers. Every output is still one fused multiply-add
// per depth, in order, from its start: the AVX2 and portable kernels' bits. Columns past `cols`
// are masked off in the loads and stores (a masked-off lane never touches memory).
#define AVX512 __attribute__((target("avx2,fma,avx512f")))

AVX512 static inline __attribute__((always_inline)) void block512(const int rows, const int panels, int64_t kb, const float *a,
                                                                   int64_t lda, const float *panel, const float *start, float *c,
                                                                   int64_t ldc, int64_t cols) {
    __m512 acc[MR_AVX512][2];
    const __mmask16 low = cols >= NR ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 high = cols >= 2 * NR ? 0xFFFF : cols > NR ? (__mmask16)((1u << (cols - NR)) - 1) : 0;
    const float *second = panel + NR * kb;
    for (int r = 0; r < rows; r++) {
        const float *s = start ? start : c + r * ldc;
        acc[r][0] = _mm512_maskz_loadu_ps(low, s);
        if (panels == 2) acc[r][1] = _mm512_maskz_loadu_ps(high, s + NR);
    }
    for (int64_t kk = 0; kk < kb; kk++) {
        __m512 b0 = _mm512_load_ps(panel + kk * NR), b1 = panels == 2 ? _mm512_load_ps(second + kk * NR) : b0;
        for (int r = 0; r < rows; r++) {
            __m512 x = _mm512_set1_ps(a[r * lda + kk]);
            acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
            if (panels == 2) acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm512_mask_storeu_ps(c + r * ldc, low, acc[r][0]);
        if (panels == 2) _mm512_mask_storeu_ps(c + r * ldc + NR, high, acc[r][1]);
    }
}

// block512() with the row and panel counts constants, so that the accumulators stay in registers.
#define ROWS_CASE(n) \
    case n: \
        if (two) block512(n, 2, kb, a, lda, panel, start, c, ldc, cols); \
        else block512(n, 1, kb, a, lda, panel, start, c, ldc, cols); \
        break;
AVX512 static void block_avx512(int64_t rows, int64_t kb, const float *a, int64_t lda, const float *panel, const float *start, float *c,
                                int64_t ldc, int64_t cols) {
    int two = cols > NR;
    switch (rows) {
        ROWS_CASE(12) ROWS_CASE(11) ROWS_CASE(10) ROWS_CASE(9) ROWS_CASE(8) ROWS_CASE(7)
        ROWS_CASE(6) ROWS_CASE(5) ROWS_CASE(4) ROWS_CASE(3) ROWS_CASE(2)
        default:
            if (two) block512(1, 2, kb, a, lda, panel, start, c, ldc, cols);
            else block512(1, 1, kb, a, lda, panel, start, c, ldc, cols);
    }
}
#undef ROWS_CASE
#endif

// Columns j0 ..< j1 of the product on this thread.
void assay_sgemm_ordered_columns(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                                 const float *start, float *c, int64_t ldc, int64_t j0, int64_t j1) {
    if (m <= 0 || j1 <= j0) return;
    float *packed = k > 0 ? packing_buffer() : NULL;
    if (!packed) {
        ordered_unpacked(m, k, a, lda, b, ldb, transposed, start, c, ldc, j0, j1);
        return;
    }
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        if (assay_avx512_level() >= 1)
            blocked((kernel_t){block_avx512, MR_AVX512, 2 * NR}, m, k, a, lda, b, ldb, transposed, start, c, ldc, j0, j1, packed);
        else
            blocked((kernel_t){block_avx2, MR, NR}, m, k, a, lda, b, ldb, transposed, start, c, ldc, j0, j1, packed);
        return;
    }
#endif
    blocked((kernel_t){block_portable, MR, NR}, m, k, a, lda, b, ldb, transposed, start, c, ldc, j0, j1, packed);
}
