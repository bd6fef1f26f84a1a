// Q4_0, Q4_K and Q6_K against their quantized activations (q8_0, q8_K) on AVX-512 with VNNI, ggml
// numerics: decode and short batches, the weights read in place from the mapped file.
//
// The AVX2 kernels (avx2_ggml.c, avx2_batches.c) spend about 13 instructions per Q4_0 block of 32
// and weight row: unpacking 16 bytes of nibbles, two multiply-add steps to int32, a conversion,
// the block scale's conversion, product and broadcast, and a multiply-add. On Zen 4 that kept
// decode compute-bound at 10 GB/s a thread, where llama.cpp's repacked 8-row layout (a second
// copy of the weights) reads 20+. Here four Q4_0 blocks of a row (72 bytes) take one 512-bit
// register (VBMI as well):
//   - one load and one 8-byte load, one vpermt2b gathering the 64 nibble bytes, two masks and a
//     shift for the low and high nibbles;
//   - two vpdpbusd against the activations rearranged to match (the low halves of four blocks,
//     then the high halves; lane l holds block l % 4's values), started from −8·Σa of each block
//     in lanes 0–3, so each block's four lanes sum to Σ (q − 8)·a exactly;
//   - one vpermw gathering the four scales (block l % 4's in lane l), one conversion, one product
//     with the activations' four scales (a 16-byte broadcast) and one multiply-add into 16 float
//     lanes.
// About 12 instructions for 128 values instead of 52. A Q4_K block's 128 bytes of nibbles take two
// registers, four groups of 32 values each: maddubs and one vpdpwssd with the groups' scales per
// register (four vpermw spread the eight scales), the mins against Q8_K's sums in one madd, and
// two multiply-adds into float lanes instead of the AVX2 kernel's horizontal sums and scalar
// products per block. Q6_K (a Q4_K_M file's output and some of its other matrices) the same way,
// its 6-bit values built from a register of low nibbles and the high bit pairs, 64 at a time.
//
// Each output is the same whatever rows share its call: decode (one activation row) and short
// batches (up to four at a time) give the same bits, as the AVX2 kernels do between themselves.
#include "avx512_q4_0.h"

#include <stdlib.h>

#if ASSAY_X86
#define AVX512_Q4_K __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

// One group of four activation blocks as the kernel reads it (192 bytes). Lane l of a register
// (bytes 4·l … 4·l + 3) belongs to block l % 4 and holds its values 4·(l / 4) … 4·(l / 4) + 3 (low
// half) or 16 more (high half), so the blocks' scales repeat every four lanes: one 16-byte
// broadcast instead of a 64-byte load.
typedef struct {
    int8_t low[64];
    int8_t high[64];
    float scale[4];     // the four blocks' scales
    int32_t start[4];   // −8 · Σ of each block's 32 values (lanes 0–3; the other lanes start at 0)
    int32_t unused[8];
} q4_0_group;

// Activation row `xq` (q8_0 blocks of 34 bytes) rearranged into groups (q4_0_lanes); blocks past
// the last are zero (their products then 0 whatever the weights' bytes).
AVX512_Q4_0 static void prepare(const uint8_t *xq, int64_t blocks, q4_0_group *g) {
    const __m512i ones = _mm512_set1_epi8(1);
    for (int64_t n = 0; n < groups_of(blocks); n++) {
        __m128i halves[2][4];
        float scale[4];
        for (int b = 0; b < 4; b++) {
            int64_t i = 4 * n + b;
            halves[0][b] = halves[1][b] = _mm_setzero_si128();
            scale[b] = 0;
            if (i < blocks) {
                const uint8_t *block = xq + i * 34;
                halves[0][b] = _mm_loadu_si128((const __m128i *)(block + 2));
                halves[1][b] = _mm_loadu_si128((const __m128i *)(block + 18));
                scale[b] = _cvtsh_ss(load_u16(block));
            }
        }
        __m512i sums = _mm512_setzero_si512();
        for (int h = 0; h < 2; h++) {
            __m512i lanes = q4_0_lanes(halves[h]);
            _mm512_store_si512((void *)(h ? g[n].high : g[n].low), lanes);
            sums = _mm512_dpbusd_epi32(sums, ones, lanes);
        }
        // Lanes b, b + 4, b + 8 and b + 12 of `sums` hold block b's: their sum, times −8.
        __m256i half = _mm256_add_epi32(_mm512_castsi512_si256(sums), _mm512_extracti64x4_epi64(sums, 1));
        __m128i total = _mm_add_epi32(_mm256_castsi256_si128(half), _mm256_extracti128_si256(half, 1));
        _mm_store_si128((__m128i *)g[n].start, _mm_mullo_epi32(total, _mm_set1_epi32(-8)));
        memcpy(g[n].scale, scale, sizeof scale);
    }
}

// Group `i` of weight row `w` (its 72 bytes at w + 72·i; the row has `blocks` blocks) against R
// prepared activation rows (`g`, `stride` groups apart), added into acc[r].
AVX512_Q4_0 static inline __attribute__((always_inline)) void group(const uint8_t *w, int64_t i, int64_t blocks, const q4_0_group *g,
                                                                     int64_t stride, __m512 *acc, const int R) {
    __m512i low, high;
    __m512 d;
    q4_unpack(Q4_0, w, i, blocks, &low, &high, &d, NULL);
    for (int r = 0; r < R; r++) {
        const q4_0_group *a = g + (int64_t)r * stride + i;
        __m512i start = _mm512_zextsi128_si512(_mm_load_si128((const __m128i *)a->start));
        __m512i sum = _mm512_dpbusd_epi32(start, low, _mm512_load_si512((const void *)a->low));
        sum = _mm512_dpbusd_epi32(sum, high, _mm512_load_si512((const void *)a->high));
        __m512 s = _mm512_mul_ps(d, _mm512_broadcast_f32x4(_mm_load_ps(a->scale)));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), s, acc[r]);
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
        AHEAD(w + 72 * i, 0);
        AHEAD(w + 72 * i, 64);
        group(w, i, blocks, g, stride, even, R);
        group(w, i + 1, blocks, g, stride, odd, R);
    }
    if (i < groups) group(w, i, blocks, g, stride, even, R);
    for (int r = 0; r < R; r++) out[r * ldy] = _mm512_reduce_add_ps(_mm512_add_ps(even[r], odd[r]));
}

// MARK: - Q4_K

// One Q8_K activation block as the Q4_K kernel reads it (320 bytes): its values in the order of
// the weights' registers (groups of 32 in the order 0 2 1 3 4 6 5 7: a register's low nibbles
// hold groups 0 and 2, its high nibbles 1 and 3), its sixteen sums of 16 values and its scale.
typedef struct {
    int8_t values[256];
    int16_t sums[16];
    float d;
    float unused[7];
} q4_K_activations;

static void prepare_q4_K(const uint8_t *xq, int64_t blocks, q4_K_activations *g) {
    static const int order[8] = {0, 2, 1, 3, 4, 6, 5, 7};
    for (int64_t i = 0; i < blocks; i++, xq += ASSAY_Q8_K_BYTES) {
        for (int j = 0; j < 8; j++) memcpy(g[i].values + 32 * j, q8_K_values(xq) + 32 * order[j], 32);
        memcpy(g[i].sums, xq + 260, 32);
        g[i].d = q8_K_scale(xq);
    }
}

// Weight row `w` (`blocks` Q4_K blocks of 144 bytes) against R prepared activation rows (`g`,
// `stride` blocks apart): out[r · ldy] for r < R.
AVX512_Q4_K static inline __attribute__((always_inline)) void row_q4_K(const uint8_t *w, int64_t blocks, const q4_K_activations *g,
                                                                        int64_t stride, float *out, int64_t ldy, const int R) {
    // Words of the scales register (eight scales, then eight mins) for each register of values:
    // groups 0 and 2, 1 and 3, 4 and 6, 5 and 7 (sixteen words each); the mins each twice.
#define HALVES(a, b) b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a
    const __m512i pick02 = _mm512_set_epi16(HALVES(0, 2)), pick13 = _mm512_set_epi16(HALVES(1, 3)),
                  pick46 = _mm512_set_epi16(HALVES(4, 6)), pick57 = _mm512_set_epi16(HALVES(5, 7));
#undef HALVES
    const __m256i twice = _mm256_set_epi16(15, 15, 14, 14, 13, 13, 12, 12, 11, 11, 10, 10, 9, 9, 8, 8);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    __m512 acc[4];
    __m256 mins[4];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps(), mins[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w += 144) {
        AHEAD(w, 0);
        AHEAD(w, 64);
        AHEAD(w, 128);
        __m512i both = _mm512_castsi256_si512(_mm256_cvtepu8_epi16(q4_K_scale_bytes(w)));
        __m512i s02 = _mm512_permutexvar_epi16(pick02, both), s13 = _mm512_permutexvar_epi16(pick13, both);
        __m512i s46 = _mm512_permutexvar_epi16(pick46, both), s57 = _mm512_permutexvar_epi16(pick57, both);
        __m256i m16 = _mm256_permutexvar_epi16(twice, _mm512_castsi512_si256(both));
        __m512i q0 = _mm512_loadu_si512((const void *)(w + 16)), q1 = _mm512_loadu_si512((const void *)(w + 80));
        __m512i l0 = _mm512_and_si512(q0, mask), h0 = _mm512_and_si512(_mm512_srli_epi16(q0, 4), mask);
        __m512i l1 = _mm512_and_si512(q1, mask), h1 = _mm512_and_si512(_mm512_srli_epi16(q1, 4), mask);
        __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w)));  // d, dmin
        for (int r = 0; r < R; r++) {
            const q4_K_activations *a = g + (int64_t)r * stride + i;
            __m512i s = _mm512_dpwssd_epi32(_mm512_setzero_si512(), _mm512_maddubs_epi16(l0, _mm512_load_si512((const void *)a->values)), s02);
            s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(h0, _mm512_load_si512((const void *)(a->values + 64))), s13);
            s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(l1, _mm512_load_si512((const void *)(a->values + 128))), s46);
            s = _mm512_dpwssd_epi32(s, _mm512_maddubs_epi16(h1, _mm512_load_si512((const void *)(a->values + 192))), s57);
            __m256i m = _mm256_madd_epi16(m16, _mm256_load_si256((const __m256i *)a->sums));
            __m128 scales = _mm_mul_ps(dm, _mm_set1_ps(a->d));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_broadcastss_ps(scales), acc[r]);
            mins[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_broadcastss_ps(_mm_movehdup_ps(scales)), mins[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * ldy] = _mm512_reduce_add_ps(acc[r]) - hsum(mins[r]);
}

// MARK: - Q6_K

// A Q8_K block in its own order for Q6_K, whose registers take 64 consecutive values each.
static void prepare_q6_K(const uint8_t *xq, int64_t blocks, q4_K_activations *g) {
    for (int64_t i = 0; i < blocks; i++, xq += ASSAY_Q8_K_BYTES) {
        memcpy(g[i].values, q8_K_values(xq), 256);
        memcpy(g[i].sums, xq + 260, 32);
        g[i].d = q8_K_scale(xq);
    }
}

// Weight row `w` (`blocks` Q6_K blocks of 210 bytes: 128 bytes of low nibbles, 64 of high bit
// pairs, sixteen int8 scales, d) against R prepared activation rows. A half block's 128 values
// take two registers: runs 0 and 1 (the low nibbles of its 64 bytes, with bit pairs 0 and 1 of its
// 32 high bytes), runs 2 and 3 (the high nibbles, bit pairs 2 and 3); maddubs and one vpdpwssd
// with the sixteen-value groups' scales each, and −32·Σ sc·Σy of the block in one madd, as ggml's
// unsigned values less 32.
AVX512_Q4_K static inline __attribute__((always_inline)) void row_q6_K(const uint8_t *w, int64_t blocks, const q4_K_activations *g,
                                                                        int64_t stride, float *out, int64_t ldy, const int R) {
    // Words of the scales (int16) for register k of a block (k = 2·half + 0 or 1): groups 4k, 4k + 1,
    // 4k + 2, 4k + 3, eight words each.
#define QUARTERS(k) 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, 4 * k + 3, \
                    4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, 4 * k + 2, \
                    4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, 4 * k + 1, \
                    4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k, 4 * k
    const __m512i pick[4] = {_mm512_set_epi16(QUARTERS(0)), _mm512_set_epi16(QUARTERS(1)), _mm512_set_epi16(QUARTERS(2)),
                             _mm512_set_epi16(QUARTERS(3))};
#undef QUARTERS
    const __m512i mask = _mm512_set1_epi8(0x0F), three = _mm512_set1_epi8(3);
    // The high bytes in both 256-bit halves, shifted to bring bit pair 0 and 1 (2 and 3) to the
    // bottom of each byte.
    const __m512i pairs01 = _mm512_set_epi64(2, 2, 2, 2, 0, 0, 0, 0), pairs23 = _mm512_set_epi64(6, 6, 6, 6, 4, 4, 4, 4);
    __m512 acc[4];
    for (int r = 0; r < R; r++) acc[r] = _mm512_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w += 210) {
        for (int line = 0; line < 4; line++) AHEAD(w, 64 * line);
        __m256i scales16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
        __m512i wide = _mm512_castsi256_si512(scales16);
        __m512i s[4];
        for (int k = 0; k < 4; k++) s[k] = _mm512_permutexvar_epi16(pick[k], wide);
        __m512i sum[4];
        for (int r = 0; r < R; r++) sum[r] = _mm512_setzero_si512();
        for (int half = 0; half < 2; half++) {
            __m512i low = _mm512_loadu_si512((const void *)(w + 64 * half));
            __m512i high = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w + 128 + 32 * half)));
            __m512i v01 = _mm512_or_si512(_mm512_and_si512(low, mask),
                                          _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(high, pairs01), three), 4));
            __m512i v23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(low, 4), mask),
                                          _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi64(high, pairs23), three), 4));
            for (int r = 0; r < R; r++) {
                const q4_K_activations *a = g + (int64_t)r * stride + i;
                sum[r] = _mm512_dpwssd_epi32(sum[r], _mm512_maddubs_epi16(v01, _mm512_load_si512((const void *)(a->values + 128 * half))), s[2 * half]);
                sum[r] = _mm512_dpwssd_epi32(sum[r], _mm512_maddubs_epi16(v23, _mm512_load_si512((const void *)(a->values + 128 * half + 64))),
                                             s[2 * half + 1]);
            }
        }
        float d = _cvtsh_ss(load_u16(w + 208));
        for (int r = 0; r < R; r++) {
            const q4_K_activations *a = g + (int64_t)r * stride + i;
            __m256i offset = _mm256_madd_epi16(scales16, _mm256_load_si256((const __m256i *)a->sums));
            __m512i total = _mm512_sub_epi32(sum[r], _mm512_zextsi256_si512(_mm256_slli_epi32(offset, 5)));
            acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(total), _mm512_set1_ps(a->d * d), acc[r]);
        }
    }
    for (int r = 0; r < R; r++) out[r * ldy] = _mm512_reduce_add_ps(acc[r]);
}

// MARK: - All types

int assay_ggml_rows_avx512_available(int type) {
    return type == Q4_0 ? assay_avx512_vbmi() : type == Q4_K || type == Q6_K ? assay_avx512_level() >= 2 : 0;
}

// Rows r0 ..< r1 against the m prepared activation rows at `g` (`units` apart), through `ROW`: about
// 16 KB of weight rows meet every activation row while they are in L1 (one row at a time in
// decode), so the weights are read from memory once. A function per type, each compiled for what
// its kernel needs (Q4_K's runs on CPUs without VBMI).
#define ROWS_OF(name, target, ROW, unit_t)                                                                              \
    target static void name(const uint8_t *w, size_t row_bytes, int64_t blocks, const unit_t *g, int64_t units, int64_t m, float *y, \
                            int64_t ldy, int64_t r0, int64_t r1) {                                                      \
        int64_t step = m == 1 ? r1 - r0 : (int64_t)(16384 / (row_bytes ? row_bytes : 1));                              \
        if (step < 1) step = 1;                                                                                          \
        for (int64_t r = r0; r < r1; r += step) {                                                                        \
            int64_t end = r + step < r1 ? r + step : r1;                                                                 \
            for (int64_t a = 0; a < m; a += 4) {                                                                         \
                const unit_t *ga = g + a * units;                                                                        \
                float *out = y + a * ldy - r0;                                                                           \
                for (int64_t i = r; i < end; i++) {                                                                      \
                    const uint8_t *wr = w + (size_t)i * row_bytes;                                                       \
                    switch (m - a < 4 ? (int)(m - a) : 4) {                                                              \
                    case 4: ROW(wr, blocks, ga, units, out + i, ldy, 4); break;                                          \
                    case 3: ROW(wr, blocks, ga, units, out + i, ldy, 3); break;                                          \
                    case 2: ROW(wr, blocks, ga, units, out + i, ldy, 2); break;                                          \
                    default: ROW(wr, blocks, ga, units, out + i, ldy, 1); break;                                         \
                    }                                                                                                    \
                }                                                                                                        \
            }                                                                                                            \
        }                                                                                                                \
    }
ROWS_OF(rows_q4_0, AVX512_Q4_0, row, q4_0_group)
ROWS_OF(rows_q4_K, AVX512_Q4_K, row_q4_K, q4_K_activations)
ROWS_OF(rows_q6_K, AVX512_Q4_K, row_q6_K, q4_K_activations)
#undef ROWS_OF

// Prepared units per activation row: Q4_0 groups of four blocks, Q4_K and Q6_K blocks.
static int64_t units_of(int type, int64_t k) { return type == Q4_0 ? groups_of(k / 32) : k / 256; }
static size_t unit_bytes(int type) { return type == Q4_0 ? sizeof(q4_0_group) : sizeof(q4_K_activations); }

size_t assay_ggml_prepared_bytes(int type, int64_t k, int64_t m) {
    if (m < 1 || units_of(type, k) < 1 || !assay_ggml_rows_avx512_available(type)) return 0;
    return (size_t)m * (size_t)units_of(type, k) * unit_bytes(type);
}

void assay_ggml_prepare_avx512(int type, int64_t k, const uint8_t *xq, size_t xq_row_bytes, int64_t m, void *g) {
    int64_t blocks = type == Q4_0 ? k / 32 : k / 256, units = units_of(type, k);
    for (int64_t a = 0; a < m; a++) {
        if (type == Q4_0) prepare(xq + a * xq_row_bytes, blocks, (q4_0_group *)g + a * units);
        else if (type == Q4_K) prepare_q4_K(xq + a * xq_row_bytes, blocks, (q4_K_activations *)g + a * units);
        else prepare_q6_K(xq + a * xq_row_bytes, blocks, (q4_K_activations *)g + a * units);
    }
}

void assay_ggml_rows_avx512_prepared(int type, const uint8_t *w, size_t row_bytes, int64_t k, const void *g, int64_t m, float *y,
                                     int64_t ldy, int64_t r0, int64_t r1) {
    int64_t blocks = type == Q4_0 ? k / 32 : k / 256, units = units_of(type, k);
    if (type == Q4_0) rows_q4_0(w, row_bytes, blocks, g, units, m, y, ldy, r0, r1);
    else if (type == Q4_K) rows_q4_K(w, row_bytes, blocks, g, units, m, y, ldy, r0, r1);
    else rows_q6_K(w, row_bytes, blocks, g, units, m, y, ldy, r0, r1);
}

int assay_ggml_rows_avx512(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes, int64_t m,
                           float *y, int64_t ldy, int64_t r0, int64_t r1) {
    size_t bytes = assay_ggml_prepared_bytes(type, k, m);
    void *g = bytes ? aligned_alloc(64, bytes) : NULL;
    if (!g) return 0;
    assay_ggml_prepare_avx512(type, k, xq, xq_row_bytes, m, g);
    assay_ggml_rows_avx512_prepared(type, w, row_bytes, k, g, m, y, ldy, r0, r1);
    free(g);
    return 1;
}
#endif
