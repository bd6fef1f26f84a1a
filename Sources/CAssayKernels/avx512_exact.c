// Exact numerics for Q4_0, Q4_1, Q4_K, Q5_K and Q6_K on AVX-512 with VNNI and VBMI: f32
// activations against the weights in place, through integer products (decode: one activation row).
//
// The AVX2 exact kernels (avx2_exact.c) convert every weight to float for its multiply-add: about
// 18 vector operations a block of 32, compute-bound near 10 GB/s a thread on Zen 4 where the ggml
// kernel's integer products reach 28. Here each block's 32 activations are split, once per
// product, into four signed 8-bit limbs with a power-of-two scale: x = 2^e · (l0 + l1·2^−7 +
// l2·2^−14 + l3·2^−21) + r, where 2^e makes the block's largest magnitude 32–64 so every limb is
// within ±64, and |r| ≤ 2^(e−22), at most 2^−27 of the block's largest. Every split is exact float
// arithmetic (a power-of-two scaling, a rounding to an integer, a subtraction and a doubling by
// 128), so the activations are carried to 28 bits below the block's largest: whole for all values
// within 2^−3 of it, and smaller values lose only bits that weigh at most 2^−27 of it. What is
// lost is measured against the block's largest, so a value above 16 times the block's mean
// magnitude (a model's outlier channel; at most one a block) is taken out of the limbs before the
// scale is chosen and met in float by each row, its weight dequantized on its own: otherwise an
// outlier of 10^4 over a zero weight would leave its neighbours 13 bits fewer.
// The weights' nibbles meet each limb in two vpdpbusd (eight a group of four blocks, against the
// ggml kernel's two), for Q4_0 starting from −8 · Σ limb, so each int32 lane holds an exact
// Σ (q − 8)·l (Q4_1: Σ q·l); lane sums of limbs 0 and 1 combine exactly as 128 · s0 + s1, of
// limbs 2 and 3 likewise (both under 2^24, so their conversions to float are exact), and one
// multiply-add joins the two (s01 + s23 · 2^−14, rounded once) before d · 2^(e−7) scales it into
// float lanes (rounded again). Q4_1 adds m · Σ x, with each block's Σ x taken from the limbs'
// integer sums the same way. A block's sum is thus rounded about twice where the float kernel
// rounds at each of its multiply-adds: errors of the float kernel's size or smaller
// (QuantizedKernelTests), at about 23 vector operations a group of four blocks.
//
// Q4_K's blocks of 256 are eight groups of 32, each with a 6-bit scale and min (w = d·scale·q −
// dmin·min). Their activations are split by the groups of 32 the same way, laid out so that a
// half block's 64 bytes of nibbles (four groups) meet them after two 128-bit shuffles; the block's
// eight scales and eight mins are converted together into one vector (d·scale·2^(e−7) and
// dmin·min·Σ x), from which each half takes its lanes' scales in one permutation: about 27 vector
// operations a half block against the AVX2 float kernel's 64 on half as wide vectors. Q5_K is
// Q4_K with a fifth bit a value (bit g of byte l of qh for value l of group g), moved into place
// by word shifts and merged in one ternary logic operation a vector.
//
// Q6_K's blocks are sixteen groups of 16 with int8 scales (w = d·scale·(q − 32)). A half block's
// 64 bytes of low bits and 32 of high bits unpack into two runs of 64 values 0–63 in their
// order, each group in a 128-bit lane, against activations split by blocks of 32 in the same
// order; each run's products start from −32 times its groups' limb sums (as Q4_0's from −8), so
// the int32 lanes hold exact Σ (q − 32)·l, and its four lanes' scales come from the block's
// sixteen, converted together, in one permutation: about 45 vector operations a half block
// against the float kernel's 70 on half as wide vectors.
//
// Activations the split cannot carry (NaN, infinities, a magnitude above 2^60, a block whose
// largest magnitude, its outlier aside, is below 2^−60) make the preparation fail, and the product
// then takes the float kernel, which propagates them as it always did.
#include "avx512_q4_0.h"

#include <math.h>
#include <string.h>

#if ASSAY_X86
// One group of four activation blocks, split for Q4_0 and Q4_1 (576 bytes).
typedef struct {
    int8_t limbs[4][2][64];  // limb j of the four blocks: values 0–15, then 16–31, in q4_0_lanes' order
    float scale[4];          // 2^(e − 7) of each block (0 for a block of zeros or past the row's end)
    int32_t start[2][4];     // Q4_0: −8 · (128 · Σ l0 + Σ l1) and −8 · (128 · Σ l2 + Σ l3) of each block, block b in lane b
    float sums[4];           // Q4_1: Σ x of each block as the limbs carry it, rounded once
} exact_group;
_Static_assert(sizeof(exact_group) % 64 == 0, "groups stay 64-byte aligned");

// The eight activation blocks of a Q4_K or Q5_K block (256 values), split (1216 bytes). Half p
// holds blocks 4p … 4p + 3 in the order the weights' 64 bytes of nibbles unpack to (exact_half_k):
// 128-bit lanes of blocks 4p, 4p + 2, 4p + 1 and 4p + 3, values 0–15 (`limbs[p][j][0]`) or 16–31
// (`[1]`), bytes in the values' order. The blocks' outliers are met in vectors, eight at a time
// (exact_row_k): block j's in `outlier[j]` (0 if it has none), the byte holding its nibble among
// the block's 128 in `at[j]`, its position in the block in `at[8 + j]`, and `at[16]` set when any.
typedef struct {
    int8_t limbs[2][4][2][64];
    float scale[8];  // 2^(e − 7) of each block
    float sums[8];   // Σ x of each block as the limbs carry it, rounded once (read with `scale` as one vector)
    double outlier[8];
    uint8_t at[64];
} exact_block_k;
_Static_assert(sizeof(exact_block_k) % 64 == 0, "blocks stay 64-byte aligned");

// The eight activation blocks of a Q6_K block (256 values), split (1344 bytes): values 64v …
// 64v + 63 in their order, limb j in `limbs[v][j]`, as exact_row_q6 unpacks a run of 64 weights.
// Run v's products start from group 4v + c's −32 · (128 · Σ l0 + Σ l1) (`start[v][0][c]`) and
// −32 · (128 · Σ l2 + Σ l3) (`start[v][1][c]`), so the int32 lanes hold exact Σ (q − 32)·l.
// Outliers as exact_block_k's: block j's in `outlier[j]`, the byte of its low bits among ql's 128
// in `at[j]`, of its high bits among qh's 64 in `at[8 + j]`, of its scale among the 16 in
// `at[16 + j]`, and `at[24]` set when any.
typedef struct {
    int8_t limbs[4][4][64];
    int32_t start[4][2][4];
    float scale[16];  // 2^(e − 7) of each group of 16 (its block's)
    double outlier[8];
    uint8_t at[64];
} exact_block_q6;
_Static_assert(sizeof(exact_block_q6) % 64 == 0, "blocks stay 64-byte aligned");

// After the groups: the row's outliers, at most one a block (a value above 16 times its block's
// mean magnitude: two would hold more than the block's whole sum), in order, each met in float.
typedef struct {
    int32_t count;
    int32_t index[];  // `count` positions, then their values (floats) at index + blocks
} exact_outliers;

// Bytes of the split blocks of a row of `blocks` blocks of 32.
static int64_t groups_bytes(int type, int64_t blocks) {
    return type == Q4_K || type == Q5_K ? blocks / 8 * (int64_t)sizeof(exact_block_k)
           : type == Q6_K               ? blocks / 8 * (int64_t)sizeof(exact_block_q6)
                                        : groups_of(blocks) * (int64_t)sizeof(exact_group);
}
static exact_outliers *outliers_of(int type, void *g, int64_t blocks) { return (exact_outliers *)((char *)g + groups_bytes(type, blocks)); }

// Block `i` of activation row `x` (32 values) split: limb j of values 16h … 16h + 15 in
// `halves[j][h]` and its integer sum in `sums[h][j]`, 2^(e − 7) in `scale` (0 for a block of
// zeros), its outlier (if any) added to `outliers`. 0 when the block cannot be carried.
AVX512_Q4_0 static int split_block(const float *x, int64_t i, exact_outliers *outliers, float *outlier_values, __m128i halves[4][2],
                                   int32_t sums[2][4], float *scale) {
    const __m512 shift = _mm512_set1_ps(128.0f);
    for (int j = 0; j < 4; j++) {
        halves[j][0] = halves[j][1] = _mm_setzero_si128();
        sums[0][j] = sums[1][j] = 0;
    }
    *scale = 0;
    __m512 v[2] = {_mm512_loadu_ps(x + 32 * i), _mm512_loadu_ps(x + 32 * i + 16)};
    if (_mm512_cmp_ps_mask(v[0], v[0], _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v[1], v[1], _CMP_UNORD_Q)) return 0;
    __m512 a[2] = {_mm512_abs_ps(v[0]), _mm512_abs_ps(v[1])};
    if (!(_mm512_reduce_max_ps(_mm512_max_ps(a[0], a[1])) <= 0x1p60f)) return 0;  // an infinity, or too large
    // A value far above the rest (a model's outlier channel) would set the scale and leave the
    // others fewer bits: it is taken out and met in float.
    __m512 threshold = _mm512_set1_ps(0.5f * _mm512_reduce_add_ps(_mm512_add_ps(a[0], a[1])));  // 16 × the mean
    for (int h = 0; h < 2; h++) {
        __mmask16 far = _mm512_cmp_ps_mask(a[h], threshold, _CMP_GT_OQ);
        if (!far) continue;
        int lane = __builtin_ctz(far);
        far = (__mmask16)(1u << lane);  // one at most (above half the block's sum); the one recorded
        outliers->index[outliers->count] = (int32_t)(32 * i + 16 * h + lane);
        outlier_values[outliers->count++] = x[32 * i + 16 * h + lane];
        v[h] = _mm512_maskz_mov_ps((__mmask16)~far, v[h]);
        a[h] = _mm512_maskz_mov_ps((__mmask16)~far, a[h]);
    }
    float largest = _mm512_reduce_max_ps(_mm512_max_ps(a[0], a[1]));
    if (largest == 0) return 1;
    if (!(largest >= 0x1p-60f)) return 0;
    int e;
    frexpf(largest, &e);
    e -= 6;  // largest · 2^−e in [32, 64)
    __m512 down = _mm512_set1_ps((float)-e);
    for (int h = 0; h < 2; h++) {
        __m512 r = _mm512_scalef_ps(v[h], down);
        for (int j = 0; j < 4; j++) {
            __m512 limb = _mm512_roundscale_ps(r, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            r = _mm512_mul_ps(_mm512_sub_ps(r, limb), shift);
            __m512i whole = _mm512_cvtps_epi32(limb);
            halves[j][h] = _mm512_cvtepi32_epi8(whole);
            sums[h][j] = _mm512_reduce_add_epi32(whole);
        }
    }
    *scale = ldexpf(1.0f, e - 7);
    return 1;
}

// Limb j's integer sum over a block's 32 values.
static inline int32_t limb_sum(const int32_t sums[2][4], int j) { return sums[0][j] + sums[1][j]; }

// Σ x of a block as its limbs carry it, in units of its 2^(e − 7): the limbs' sums combined as the
// products combine them, rounded once.
static inline float limbs_sum(const int32_t sums[2][4]) {
    return fmaf((float)(128 * limb_sum(sums, 2) + limb_sum(sums, 3)), 0x1p-14f, (float)(128 * limb_sum(sums, 0) + limb_sum(sums, 1)));
}

// Activation row `x` (`blocks` of 32) split for `type`'s kernel, its outliers listed after the
// groups; 0 when a block cannot be carried.
AVX512_Q4_0 static int prepare_exact(int type, const float *x, int64_t blocks, void *prepared) {
    exact_outliers *outliers = outliers_of(type, prepared, blocks);
    float *outlier_values = (float *)(outliers->index + blocks);
    outliers->count = 0;
    if (type == Q4_K || type == Q5_K) {
        exact_block_k *g = prepared;
        for (int64_t n = 0; n < blocks / 8; n++) {
            __m128i halves[8][4][2];
            int32_t sums[2][4];
            memset(g[n].outlier, 0, sizeof g[n].outlier);
            memset(g[n].at, 0, sizeof g[n].at);
            for (int b = 0; b < 8; b++) {
                int32_t before = outliers->count;
                if (!split_block(x, 8 * n + b, outliers, outlier_values, halves[b], sums, &g[n].scale[b])) return 0;
                g[n].sums[b] = limbs_sum(sums) * g[n].scale[b];
                if (outliers->count > before) {
                    int position = outliers->index[before] % 32;
                    g[n].outlier[b] = outlier_values[before];
                    g[n].at[b] = (uint8_t)(b / 2 * 32 + position);
                    g[n].at[8 + b] = (uint8_t)position;
                    g[n].at[16] = 1;
                }
            }
            for (int p = 0; p < 2; p++)
                for (int j = 0; j < 4; j++)
                    for (int h = 0; h < 2; h++) {
                        __m512i side = _mm512_castsi128_si512(halves[4 * p][j][h]);
                        side = _mm512_inserti32x4(side, halves[4 * p + 2][j][h], 1);
                        side = _mm512_inserti32x4(side, halves[4 * p + 1][j][h], 2);
                        _mm512_store_si512((void *)g[n].limbs[p][j][h], _mm512_inserti32x4(side, halves[4 * p + 3][j][h], 3));
                    }
        }
        return 1;
    }
    if (type == Q6_K) {
        exact_block_q6 *g = prepared;
        for (int64_t n = 0; n < blocks / 8; n++) {
            __m128i halves[8][4][2];
            int32_t sums[2][4];
            memset(g[n].outlier, 0, sizeof g[n].outlier);
            memset(g[n].at, 0, sizeof g[n].at);
            for (int b = 0; b < 8; b++) {
                float scale;
                int32_t before = outliers->count;
                if (!split_block(x, 8 * n + b, outliers, outlier_values, halves[b], sums, &scale)) return 0;
                if (outliers->count > before) {
                    // Value 32b + l: quarter b % 4 of half b / 4 (exact_row_q6).
                    int l = outliers->index[before] % 32;
                    g[n].outlier[b] = outlier_values[before];
                    g[n].at[b] = (uint8_t)(64 * (b / 4) + 32 * (b % 2) + l);
                    g[n].at[8 + b] = (uint8_t)(32 * (b / 4) + l);
                    g[n].at[16 + b] = (uint8_t)(2 * b + l / 16);
                    g[n].at[24] = 1;
                }
                for (int h = 0; h < 2; h++) {
                    int group = 2 * b + h;
                    g[n].scale[group] = scale;
                    g[n].start[group / 4][0][group % 4] = -32 * (128 * sums[h][0] + sums[h][1]);
                    g[n].start[group / 4][1][group % 4] = -32 * (128 * sums[h][2] + sums[h][3]);
                }
            }
            for (int v = 0; v < 4; v++)
                for (int j = 0; j < 4; j++) {
                    __m512i side = _mm512_castsi128_si512(halves[2 * v][j][0]);
                    side = _mm512_inserti32x4(side, halves[2 * v][j][1], 1);
                    side = _mm512_inserti32x4(side, halves[2 * v + 1][j][0], 2);
                    _mm512_store_si512((void *)g[n].limbs[v][j], _mm512_inserti32x4(side, halves[2 * v + 1][j][1], 3));
                }
        }
        return 1;
    }
    exact_group *g = prepared;
    for (int64_t n = 0; n < groups_of(blocks); n++) {
        __m128i halves[4][2][4], block[4][2];
        int32_t sums[4][2][4] = {{{0}}};
        float scale[4] = {0};
        for (int b = 0; b < 4; b++) {
            for (int j = 0; j < 4; j++) halves[j][0][b] = halves[j][1][b] = _mm_setzero_si128();
            if (4 * n + b >= blocks) continue;
            if (!split_block(x, 4 * n + b, outliers, outlier_values, block, sums[b], &scale[b])) return 0;
            for (int j = 0; j < 4; j++) halves[j][0][b] = block[j][0], halves[j][1][b] = block[j][1];
        }
        for (int j = 0; j < 4; j++)
            for (int h = 0; h < 2; h++) _mm512_store_si512((void *)g[n].limbs[j][h], q4_0_lanes(halves[j][h]));
        for (int b = 0; b < 4; b++) {
            int32_t upper = 128 * limb_sum(sums[b], 0) + limb_sum(sums[b], 1);
            int32_t lower = 128 * limb_sum(sums[b], 2) + limb_sum(sums[b], 3);
            g[n].start[0][b] = type == Q4_0 ? -8 * upper : 0;
            g[n].start[1][b] = type == Q4_0 ? -8 * lower : 0;
            g[n].sums[b] = type == Q4_0 ? 0 : limbs_sum(sums[b]) * scale[b];
        }
        memcpy(g[n].scale, scale, sizeof scale);
    }
    return 1;
}

// Group `i` of weight row `w` against its split activations `a`, added into `acc` (and for Q4_1
// m · Σ x into `mins`).
AVX512_Q4_0 static inline __attribute__((always_inline)) __m512 exact_group_product(const int type, const uint8_t *w, int64_t i,
                                                                                     int64_t blocks, const exact_group *a, __m512 acc,
                                                                                     __m128 *mins) {
    __m512i low, high;
    __m512 d;
    __m128 m;
    q4_unpack(type, w, i, blocks, &low, &high, &d, &m);
    if (type == Q4_1) *mins = _mm_fmadd_ps(m, _mm_load_ps(a->sums), *mins);
    const __m512i *l = (const __m512i *)a->limbs;
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, l[0]), high, l[1]);
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_zextsi128_si512(_mm_load_si128((const __m128i *)a->start[0])), low, l[2]);
    s1 = _mm512_dpbusd_epi32(s1, high, l[3]);
    __m512i s2 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), low, l[4]), high, l[5]);
    __m512i s3 = _mm512_dpbusd_epi32(_mm512_zextsi128_si512(_mm_load_si128((const __m128i *)a->start[1])), low, l[6]);
    s3 = _mm512_dpbusd_epi32(s3, high, l[7]);
    __m512 upper = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s0, 7), s1));
    __m512 lower = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s2, 7), s3));
    __m512 sum = _mm512_fmadd_ps(lower, _mm512_set1_ps(0x1p-14f), upper);
    return _mm512_fmadd_ps(sum, _mm512_mul_ps(d, _mm512_broadcast_f32x4(_mm_load_ps(a->scale))), acc);
}

// `sum` plus the row's outliers (Q4_0, Q4_1), each against its weight as the dequantizer gives
// it: d·(q − 8) or d·q + m. The terms are exact in double and summed there, then added to `sum`
// with one rounding: a row with an outlier in many blocks would otherwise round once per outlier
// (3e-7 of Σ|w·x| with one in each of 176 blocks, where the float kernel gives 1.3e-7). Each
// costs every row a scalar dequantization (about 2 ns). The K-quants meet theirs in vectors
// instead, a block's eight at a time while its bytes and scales are at hand (exact_row_k,
// exact_row_q6): on rows with an outlier in most blocks the scalar way had cost more than the
// limbs save (docs/performance.md).
AVX512_Q4_0 static inline __attribute__((always_inline)) float with_outliers(const int type, const uint8_t *w, int64_t blocks, const void *g,
                                                                             float sum) {
    const exact_outliers *outliers = outliers_of(type, (void *)g, blocks);
    const float *values = (const float *)(outliers->index + blocks);
    double terms = 0;
    for (int32_t o = 0; o < outliers->count; o++) {
        int32_t j = outliers->index[o];
        const uint8_t *block = w + (j / 32) * (type == Q4_0 ? 18 : 20), *nibbles = block + (type == Q4_0 ? 2 : 4);
        int q = j % 32 < 16 ? nibbles[j % 32] & 0x0F : nibbles[j % 32 - 16] >> 4;
        float d = _cvtsh_ss(load_u16(block));
        float weight = type == Q4_0 ? d * (float)(q - 8) : d * (float)q + _cvtsh_ss(load_u16(block + 2));
        terms += (double)weight * (double)values[o];
    }
    return outliers->count ? (float)((double)sum + terms) : sum;
}

// Weight row `w` (`blocks` Q4_0 or Q4_1 blocks) against the split activations: even groups on one
// accumulator, odd ones on another.
AVX512_Q4_0 static inline __attribute__((always_inline)) float exact_row(const int type, const uint8_t *w, int64_t blocks,
                                                                          const exact_group *g) {
    __m512 even = _mm512_setzero_ps(), odd = _mm512_setzero_ps();
    __m128 mins = _mm_setzero_ps();
    const int bytes = type == Q4_0 ? 72 : 80;
    int64_t groups = groups_of(blocks), i = 0;
    for (; i + 2 <= groups; i += 2) {
        AHEAD(w + bytes * i, 0);
        AHEAD(w + bytes * i, 64);
        if (type == Q4_1) AHEAD(w + bytes * i, 128);
        even = exact_group_product(type, w, i, blocks, g + i, even, &mins);
        odd = exact_group_product(type, w, i + 1, blocks, g + i + 1, odd, &mins);
    }
    if (i < groups) even = exact_group_product(type, w, i, blocks, g + i, even, &mins);
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(even, odd));
    if (type == Q4_1) sum += hsum(_mm256_zextps128_ps256(mins));
    return with_outliers(type, w, blocks, g, sum);
}

// Half p of a Q4_K or Q5_K block (`q`: its 64 bytes of nibbles, groups 4p … 4p + 3; Q5_K's
// fifth bits in `qh`) against the split activations `limbs`, each group's sum scaled by the lanes of
// `scales` (group j's d·scale·2^(e − 7) in lane j) and added into `acc`. The low nibbles are
// groups 4p and 4p + 2, the high ones 4p + 1 and 4p + 3, values 0–15 in 128-bit lanes 0 and 2
// and 16–31 in 1 and 3: two 128-bit shuffles put values 0–15 of the four groups in one vector and
// 16–31 in another, so both meet a limb into the same int32 lanes (lanes 4c … 4c + 3 for group
// 4p, 4p + 2, 4p + 1, 4p + 3 as c = 0 … 3). Q5_K's fifth bit of value l in group g is bit g of
// qh[l]: qh's bytes 0–15 (then 16–31) in every 128-bit lane, each lane's 16-bit words shifted to
// bring its group's bit to bit 4, merged in one ternary logic operation.
AVX512_Q4_0 static inline __attribute__((always_inline)) __m512 exact_half_k(const int type, const uint8_t *q, const uint8_t *qh,
                                                                              const int p, const int8_t limbs[4][2][64], __m512 scales,
                                                                              __m512i pick, __m512 acc) {
    const __m512i mask = _mm512_set1_epi8(0x0F);
    __m512i bytes = _mm512_loadu_si512((const void *)q);
    __m512i low = _mm512_and_si512(bytes, mask), high = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), mask);
    __m512i first = _mm512_shuffle_i64x2(low, high, 0x88), second = _mm512_shuffle_i64x2(low, high, 0xDD);
    if (type == Q5_K) {
        // Groups 0, 2, 1, 3 shift left by 4, 2, 3, 1; groups 4, 6, 5, 7 right by 0, 2, 1, 3 (each
        // count in the four 16-bit words of a 64-bit lane). (a & 0x10) | b is ternary logic 0xEC.
        const int64_t words = 0x0001000100010001;
        const __m512i counts = p == 0 ? _mm512_set_epi64(1 * words, 1 * words, 3 * words, 3 * words, 2 * words, 2 * words, 4 * words, 4 * words)
                                      : _mm512_set_epi64(3 * words, 3 * words, 1 * words, 1 * words, 2 * words, 2 * words, 0, 0);
        const __m512i fifth = _mm512_set1_epi8(0x10);
        __m512i bits[2] = {_mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)qh)),
                           _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(qh + 16)))};
        for (int h = 0; h < 2; h++) bits[h] = p == 0 ? _mm512_sllv_epi16(bits[h], counts) : _mm512_srlv_epi16(bits[h], counts);
        first = _mm512_ternarylogic_epi32(bits[0], first, fifth, 0xEC);
        second = _mm512_ternarylogic_epi32(bits[1], second, fifth, 0xEC);
    }
    const __m512i *l = (const __m512i *)limbs;
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), first, l[0]), second, l[1]);
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), first, l[2]), second, l[3]);
    __m512i s2 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), first, l[4]), second, l[5]);
    __m512i s3 = _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), first, l[6]), second, l[7]);
    __m512 upper = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s0, 7), s1));
    __m512 lower = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s2, 7), s3));
    __m512 sum = _mm512_fmadd_ps(lower, _mm512_set1_ps(0x1p-14f), upper);
    return _mm512_fmadd_ps(sum, _mm512_permutexvar_ps(pick, scales), acc);
}

// Weight row `w` (`blocks` Q4_K or Q5_K blocks of 256) against the split activations: a block's
// eight scales and eight mins converted together (d·scale·2^(e − 7) in lanes 0–7, dmin·min·Σ x
// in 8–15, subtracted at the end), its halves on two accumulators.
AVX512_Q4_0 static inline __attribute__((always_inline)) float exact_row_k(const int type, const uint8_t *w, int64_t blocks,
                                                                            const exact_block_k *g) {
    const int bytes = type == Q4_K ? 144 : 176, nibbles = type == Q4_K ? 16 : 48;
    const __m512i pick[2] = {_mm512_set_epi32(3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0),
                             _mm512_set_epi32(7, 7, 7, 7, 5, 5, 5, 5, 6, 6, 6, 6, 4, 4, 4, 4)};
    const __m512i halves = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()}, mins = _mm512_setzero_ps();
    const __m256i nibble_shift = _mm256_setr_epi32(0, 4, 0, 4, 0, 4, 0, 4), bit = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m512d terms = _mm512_setzero_pd();
    const int any = outliers_of(type, (void *)g, 8 * blocks)->count > 0;
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *b = w + bytes * i;
        AHEAD(b, 0);
        AHEAD(b, 64);
        AHEAD(b, 128);
        if (type == Q5_K) AHEAD(b, 175);
        __m512 dm = _mm512_permutexvar_ps(halves, _mm512_castps128_ps512(_mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(b)))));
        __m512 scaled = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(q4_K_scale_bytes(b))), dm);  // d·scale, dmin·min
        __m512 both = _mm512_mul_ps(scaled, _mm512_load_ps(g[i].scale));
        mins = _mm512_add_ps(mins, both);
        acc[0] = exact_half_k(type, b + nibbles, b + 16, 0, g[i].limbs[0], both, pick[0], acc[0]);
        acc[1] = exact_half_k(type, b + nibbles + 64, b + 16, 1, g[i].limbs[1], both, pick[1], acc[1]);
        if (any && g[i].at[16]) {
            // The block's outliers, one lane each: their nibble bytes picked from the 128, their
            // weights (d·scale)·q − dmin·min as the dequantizer gives them (exact products, one
            // rounding), each term exact in double and summed there.
            __m128i at = _mm_load_si128((const __m128i *)g[i].at);
            __m128i picked = _mm512_castsi512_si128(_mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)(b + nibbles)),
                                                                             _mm512_castsi128_si512(at),
                                                                             _mm512_loadu_si512((const void *)(b + nibbles + 64))));
            __m256i q = _mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(picked), nibble_shift), _mm256_set1_epi32(0x0F));
            if (type == Q5_K) {
                __m128i high = _mm512_castsi512_si128(_mm512_permutexvar_epi8(_mm512_castsi128_si512(_mm_srli_si128(at, 8)),
                                                                              _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b + 16)))));
                q = _mm256_or_si256(q, _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(high), bit), _mm256_set1_epi32(1)), 4));
            }
            __m256 weight = _mm256_sub_ps(_mm256_mul_ps(_mm512_castps512_ps256(scaled), _mm256_cvtepi32_ps(q)),
                                          _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(scaled), 1)));
            terms = _mm512_fmadd_pd(_mm512_cvtps_pd(weight), _mm512_load_pd(g[i].outlier), terms);
        }
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1])) - hsum(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(mins), 1)));
    return any ? (float)((double)sum + _mm512_reduce_add_pd(terms)) : sum;
}

// A run of 64 Q6_K weights (`q`: values 0–63, bytes in the values' order, each group of 16 in a
// 128-bit lane) against its split activations, each group's sum scaled by its lane of `scales`
// (group g's d·scale·2^(e − 7) in lane g, `pick` naming the run's four) and added into `acc`.
AVX512_Q4_0 static inline __attribute__((always_inline)) __m512 exact_run_q6(__m512i q, const int8_t limbs[4][64],
                                                                              const int32_t start[2][4], __m512 scales, __m512i pick,
                                                                              __m512 acc) {
    const __m512i *l = (const __m512i *)limbs;
    // Group c's starts in lane 5c: lane c of the 128-bit lane c of the four broadcast.
    __m512i s0 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, l[0]);
    __m512i s1 = _mm512_dpbusd_epi32(_mm512_maskz_broadcast_i32x4(0x8421, _mm_load_si128((const __m128i *)start[0])), q, l[1]);
    __m512i s2 = _mm512_dpbusd_epi32(_mm512_setzero_si512(), q, l[2]);
    __m512i s3 = _mm512_dpbusd_epi32(_mm512_maskz_broadcast_i32x4(0x8421, _mm_load_si128((const __m128i *)start[1])), q, l[3]);
    __m512 upper = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s0, 7), s1));
    __m512 lower = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_slli_epi32(s2, 7), s3));
    __m512 sum = _mm512_fmadd_ps(lower, _mm512_set1_ps(0x1p-14f), upper);
    return _mm512_fmadd_ps(sum, _mm512_permutexvar_ps(pick, scales), acc);
}

// Weight row `w` (`blocks` Q6_K blocks of 256) against the split activations. A half block's 64
// bytes of low bits (ql) and 32 of high bits (qh, in both 256-bit halves) give two runs of 64
// values 0–63: the first from ql's low nibbles and qh's bits 0–1 (values 0–31) or 2–3 (32–63),
// the second from ql's high nibbles and qh's bits 4–5 or 6–7, each high pair moved to bits 4–5 by
// shifting the 16-bit words left by 4 or 2 bits (first run) or right by 0 or 2 (second), per
// 256-bit half, and merged in one ternary logic operation. The block's sixteen scales are
// converted together (d·scale·2^(e − 7)).
AVX512_Q4_0 static float exact_row_q6(const uint8_t *w, int64_t blocks, const exact_block_q6 *g) {
    const __m512i pick[4] = {_mm512_set_epi32(3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 0, 0),
                             _mm512_set_epi32(7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4),
                             _mm512_set_epi32(11, 11, 11, 11, 10, 10, 10, 10, 9, 9, 9, 9, 8, 8, 8, 8),
                             _mm512_set_epi32(15, 15, 15, 15, 14, 14, 14, 14, 13, 13, 13, 13, 12, 12, 12, 12)};
    const __m512i up = _mm512_inserti64x4(_mm512_set1_epi16(4), _mm256_set1_epi16(2), 1);
    const __m512i down = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(2), 1);
    const __m512i low4 = _mm512_set1_epi8(0x0F), high2 = _mm512_set1_epi8(0x30);
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    const __m256i low_shift = _mm256_setr_epi32(0, 0, 4, 4, 0, 0, 4, 4), high_shift = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    __m512d terms = _mm512_setzero_pd();
    const int any = outliers_of(Q6_K, (void *)g, 8 * blocks)->count > 0;
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *b = w + 210 * i;
        AHEAD(b, 0);
        AHEAD(b, 64);
        AHEAD(b, 128);
        AHEAD(b, 192);
        float scalar_d = _cvtsh_ss(load_u16(b + 208));
        if (any && g[i].at[24]) {
            // The block's outliers, one lane each (as exact_row_k's): low and high bits and scale
            // picked from the block's bytes, weights (d·scale)·(q − 32) as the dequantizer gives them.
            __m128i at = _mm_load_si128((const __m128i *)g[i].at), at_scale = _mm_load_si128((const __m128i *)(g[i].at + 16));
            __m128i low = _mm512_castsi512_si128(_mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)b), _mm512_castsi128_si512(at),
                                                                          _mm512_loadu_si512((const void *)(b + 64))));
            __m128i high = _mm512_castsi512_si128(_mm512_permutexvar_epi8(_mm512_castsi128_si512(_mm_srli_si128(at, 8)),
                                                                          _mm512_loadu_si512((const void *)(b + 128))));
            __m128i scale = _mm512_castsi512_si128(_mm512_permutexvar_epi8(_mm512_castsi128_si512(at_scale),
                                                                           _mm512_castsi128_si512(_mm_loadu_si128((const __m128i *)(b + 192)))));
            __m256i q = _mm256_or_si256(_mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(low), low_shift), _mm256_set1_epi32(0x0F)),
                                        _mm256_slli_epi32(_mm256_and_si256(_mm256_srlv_epi32(_mm256_cvtepu8_epi32(high), high_shift),
                                                                           _mm256_set1_epi32(3)),
                                                          4));
            __m256 weight = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(scalar_d), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(scale))),
                                          _mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(32))));
            terms = _mm512_fmadd_pd(_mm512_cvtps_pd(weight), _mm512_load_pd(g[i].outlier), terms);
        }
        __m512 d = _mm512_set1_ps(scalar_d);
        __m512 scales = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 192)))), d),
                                      _mm512_load_ps(g[i].scale));
        for (int half = 0; half < 2; half++) {
            __m512i ql = _mm512_loadu_si512((const void *)(b + 64 * half));
            __m512i qh = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(b + 128 + 32 * half)));
            // (a & 0x0F) | high bits: ternary logic 0xEC is a & c | b.
            __m512i first = _mm512_ternarylogic_epi32(ql, _mm512_and_si512(_mm512_sllv_epi16(qh, up), high2), low4, 0xEC);
            __m512i second = _mm512_ternarylogic_epi32(_mm512_srli_epi16(ql, 4), _mm512_and_si512(_mm512_srlv_epi16(qh, down), high2), low4, 0xEC);
            acc[0] = exact_run_q6(first, g[i].limbs[2 * half], g[i].start[2 * half], scales, pick[2 * half], acc[0]);
            acc[1] = exact_run_q6(second, g[i].limbs[2 * half + 1], g[i].start[2 * half + 1], scales, pick[2 * half + 1], acc[1]);
        }
    }
    float sum = _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1]));
    return any ? (float)((double)sum + _mm512_reduce_add_pd(terms)) : sum;
}

// One loop per type (the type's layout constant inside it).
AVX512_Q4_0 static void exact_rows(int type, const uint8_t *w, size_t row_bytes, int64_t blocks, const void *g, float *y, int64_t r0,
                                   int64_t r1) {
    if (type == Q4_0)
        for (int64_t r = r0; r < r1; r++) y[r - r0] = exact_row(Q4_0, w + (size_t)r * row_bytes, blocks, g);
    else if (type == Q4_1)
        for (int64_t r = r0; r < r1; r++) y[r - r0] = exact_row(Q4_1, w + (size_t)r * row_bytes, blocks, g);
    else if (type == Q4_K)
        for (int64_t r = r0; r < r1; r++) y[r - r0] = exact_row_k(Q4_K, w + (size_t)r * row_bytes, blocks / 8, g);
    else if (type == Q5_K)
        for (int64_t r = r0; r < r1; r++) y[r - r0] = exact_row_k(Q5_K, w + (size_t)r * row_bytes, blocks / 8, g);
    else
        for (int64_t r = r0; r < r1; r++) y[r - r0] = exact_row_q6(w + (size_t)r * row_bytes, blocks / 8, g);
}

size_t assay_exact_prepared_bytes(int type, int64_t k) {
    int per = type == Q4_K || type == Q5_K || type == Q6_K ? 256 : 32;
    if ((type != Q4_0 && type != Q4_1 && type != Q4_K && type != Q5_K && type != Q6_K) || k < per || k % per != 0 || !assay_avx512_vbmi()) return 0;
    int64_t blocks = k / 32;
    return (size_t)(groups_bytes(type, blocks) + (4 + 8 * blocks + 63) / 64 * 64);
}

int assay_exact_prepare_avx512(int type, int64_t k, const float *x, void *g) { return prepare_exact(type, x, k / 32, g); }

void assay_exact_rows_avx512_prepared(int type, const uint8_t *w, size_t row_bytes, int64_t k, const void *g, float *y, int64_t r0,
                                      int64_t r1) {
    exact_rows(type, w, row_bytes, k / 32, g, y, r0, r1);
}
#endif

int assay_exact_splits_activations(int type) {
#if ASSAY_X86
    return assay_exact_prepared_bytes(type, 256) != 0;
#else
    (void)type;
    return 0;
#endif
}