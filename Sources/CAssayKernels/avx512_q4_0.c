// Q4_0 against q8_0 activations on AVX-512 (VNNI and VBMI), ggml numerics: decode and short
// batches, with the weights read in place from the mapped file.
//
// The AVX2 kernels (avx2_ggml.c, avx2_batches.c) spend about 13 instructions per 32-value block
// and weight row: unpacking 16 bytes of nibbles, two multiply-add steps to int32, a conversion,
// the block scale's conversion, product and broadcast, and a multiply-add. On Zen 4 that kept
// decode compute-bound at 10 GB/s a thread, where llama.cpp's repacked 8-row layout (a second
// copy of the weights) reads 20+. Here four blocks of a row (72 bytes) take one 512-bit register:
//   - one load and one 8-byte load, one vpermt2b gathering the 64 nibble bytes, two masks and a
//     shift for the low and high nibbles;
//   - two vpdpbusd against the activations rearranged to match (the low halves of four blocks,
//     then the high halves), started from −8·Σa in each block's first lane, so each block's
//     four lanes sum to Σ (q − 8)·a exactly;
//   - one vpermw gathering the four scales (one word per lane of its block), one conversion, one
//     product with the activations' scales and one multiply-add into 16 float lanes.
// About 12 instructions for 128 values instead of 52. Each output is the same whatever rows share
// its call: decode (one activation row) and short batches (up to four at a time) give the same
// bits, as the AVX2 kernels do between themselves.
#include "internal.h"

#include <stdlib.h>

#if ASSAY_X86
#define AVX512_Q4_0 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))

// One group of four activation blocks as the kernel reads it (256 bytes).
typedef struct {
    int8_t low[64];   // block b's values 0–15 at 16·b
    int8_t high[64];  // block b's values 16–31 at 16·b
    float scale[16];  // block b's scale in lanes 4·b … 4·b + 3
    int32_t start[16];  // −8 · Σ of the values lane l meets (block l / 4's)
} q4_0_group;

static int64_t groups_of(int64_t blocks) { return (blocks + 3) / 4; }

// Activation row `xq` (q8_0 blocks of 34 bytes) rearranged into groups; blocks past the last are
// zero (their products then 0 whatever the weights' bytes). Each lane of `start` is −8 times the
// sum of the four activation values it meets in the low and the high halves, so a block's four
// lanes hold −8·Σa between them.
AVX512_Q4_0 static void prepare(const uint8_t *xq, int64_t blocks, q4_0_group *g) {
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t n = 0; n < groups_of(blocks); n++) {
        q4_0_group *group = g + n;
        for (int b = 0; b < 4; b++) {
            int64_t i = 4 * n + b;
            float d = 0;
            if (i < blocks) {
                const uint8_t *block = xq + i * 34;
                memcpy(group->low + 16 * b, block + 2, 16);
                memcpy(group->high + 16 * b, block + 18, 16);
                d = _cvtsh_ss(load_u16(block));
            } else {
                memset(group->low + 16 * b, 0, 16);
                memset(group->high + 16 * b, 0, 16);
            }
            for (int l = 0; l < 4; l++) group->scale[4 * b + l] = d;
        }
        __m512i sums = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ones, _mm512_load_si512((const void *)group->low));
        sums = _mm512_dpbusd_epi32(sums, ones, _mm512_load_si512((const void *)group->high));
        _mm512_store_si512((void *)group->start, _mm512_mullo_epi32(sums, _mm512_set1_epi32(-8)));
    }
}

// Group `i` of weight row `w` (its 72 bytes at w + 72·i; the row has `blocks` blocks) against R
// prepared activation rows (`g`, `stride` groups apart), added into acc[r].
AVX512_Q4_0 static inline __attribute__((always_inline)) void group(const uint8_t *w, int64_t i, int64_t blocks, const q4_0_group *g,
                                                                     int64_t stride, __m512 *acc, const int R) {
    // Byte j of the gathered nibbles: block j / 16's byte j % 16, at 18·(j / 16) + 2 + j % 16 of
    // the group's 72 bytes (bytes 64–71 from the second table). Word j of the scales: block j / 4's.
    const __m512i gather = _mm512_set_epi8(71, 70, 69, 68, 67, 66, 65, 64, 63, 62, 61, 60, 59, 58, 57, 56,  //
                                           53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38,  //
                                           35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,  //
                                           17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2);
    const __m512i scales = _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                            27, 27, 27, 27, 18, 18, 18, 18, 9, 9, 9, 9, 0, 0, 0, 0);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    const uint8_t *p = w + 72 * i;
    __m512i first, second;
    if (4 * i + 4 <= blocks) {
        first = _mm512_loadu_si512((const void *)p);
        second = _mm512_zextsi128_si512(_mm_loadl_epi64((const __m128i *)(p + 64)));
    } else {
        // The row's last 18, 36 or 54 bytes: nothing read past them.
        int64_t bytes = (blocks - 4 * i) * 18;
        first = _mm512_maskz_loadu_epi8(((__mmask64)1 << bytes) - 1, p);
        second = _mm512_setzero_si512();
    }
    __m512i q = _mm512_permutex2var_epi8(first, gather, second);
    __m512i low = _mm512_and_si512(q, mask), high = _mm512_and_si512(_mm512_srli_epi16(q, 4), mask);
    __m512 d = _mm512_cvtph_ps(_mm512_castsi512_si256(_mm512_permutexvar_epi16(scales, first)));
    for (int r = 0; r < R; r++) {
        const q4_0_group *a = g + (int64_t)r * stride + i;
        __m512i sum = _mm512_dpbusd_epi32(_mm512_load_si512((const void *)a->start), low, _mm512_load_si512((const void *)a->low));
        sum = _mm512_dpbusd_epi32(sum, high, _mm512_load_si512((const void *)a->high));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), _mm512_mul_ps(d, _mm512_load_ps(a->scale)), acc[r]);
    }
}

// Weight row `w` (`blocks` Q4_0 blocks) against R prepared activation rows: out[r · ldy] for
// r < R. Even groups go to one accumulator per activation row, odd ones to another.
AVX512_Q4_0 static inline __attribute__((always_inline)) void row(const uint8_t *w, int64_t blocks, const q4_0_group *g, int64_t stride,
                                                                   float *out, int64_t ldy, const int R) {
    __m512 even[4], odd[4];
    for (int r = 0; r < R; r++) even[r] = odd[r] = _mm512_setzero_ps();
    int64_t groups = groups_of(blocks), i = 0;
    for (; i + 2 <= groups; i += 2) {
        _mm_prefetch((const char *)w + 72 * i + 4096, _MM_HINT_T0);
        _mm_prefetch((const char *)w + 72 * i + 4096 + 64, _MM_HINT_T0);
        group(w, i, blocks, g, stride, even, R);
        group(w, i + 1, blocks, g, stride, odd, R);
    }
    if (i < groups) group(w, i, blocks, g, stride, even, R);
    for (int r = 0; r < R; r++) out[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(even[r], odd[r]));
}

AVX512_Q4_0 int assay_q4_0_rows_avx512(const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes, int64_t m,
                                       float *y, int64_t ldy, int64_t r0, int64_t r1) {
    int64_t blocks = k / 32, groups = groups_of(blocks);
    if (m < 1 || groups < 1) return 0;
    q4_0_group *g = aligned_alloc(64, (size_t)m * (size_t)groups * sizeof(q4_0_group));
    if (!g) return 0;
    for (int64_t a = 0; a < m; a++) prepare(xq + a * xq_row_bytes, blocks, g + a * groups);
    // About 16 KB of weight rows meet every activation row while they are in L1 (one row at a
    // time in decode), so the weights are read from memory once.
    int64_t step = m == 1 ? r1 - r0 : (int64_t)(16384 / (row_bytes ? row_bytes : 1));
    if (step < 1) step = 1;
    for (int64_t r = r0; r < r1; r += step) {
        int64_t end = r + step < r1 ? r + step : r1;
        for (int64_t a = 0; a < m; a += 4) {
            const q4_0_group *ga = g + a * groups;
            float *out = y + a * ldy - r0;
            for (int64_t row_index = r; row_index < end; row_index++) {
                const uint8_t *wr = w + (size_t)row_index * row_bytes;
                switch (m - a < 4 ? (int)(m - a) : 4) {
                case 4: row(wr, blocks, ga, groups, out + row_index, ldy, 4); break;
                case 3: row(wr, blocks, ga, groups, out + row_index, ldy, 3); break;
                case 2: row(wr, blocks, ga, groups, out + row_index, ldy, 2); break;
                default: row(wr, blocks, ga, groups, out + row_index, ldy, 1); break;
                }
            }
        }
    }
    free(g);
    return 1;
}
#endif
