// Exact numerics on AVX2 for the types avx2_exact.c leaves (Q5_0, Q5_1, Q5_K, Q2_K, Q3_K), one
// activation row: its dword scheme with each value's bits gathered into its byte first (the fifth
// bit ORed in; Q3_K's high bit as 4), so a run of 32 values is bytes read as dwords
// (byte_products) against the transposed activations. Before, these types dequantized every block
// into a buffer (0.6–2.1 tokens/s on the 1.1B shapes with scalar dequantization;
// docs/performance.md).
#include "avx2.h"

#if ASSAY_X86
// Q5_0 starts a block's products from −16 times its lanes' Σ x (`t`, after `xt`): d·Σ (q − 16)·x.
// Q5_1 adds m times the lanes' Σ x on accumulators of their own: d·Σ q·x + m·Σ x. The block's d
// (and m) come from one F16C conversion.
AVX2 static inline __attribute__((always_inline)) void five_bit_block(const int type, const uint8_t *w, const float *xt, const float *t,
                                                                      __m256 *acc, __m256 *mins) {
    const int at = type == Q5_0 ? 2 : 4;  // where qh starts; the nibbles follow it
    __m256i u = five_bits(w + at + 4, load_u32(w + at));
    __m128 halves = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w)));
    __m256 start = _mm256_setzero_ps();
    if (type == Q5_0) start = _mm256_load_ps(t);
    else *mins = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(halves)), _mm256_load_ps(t), *mins);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(halves), byte_products(u, xt, start), *acc);
}

// Two blocks a step on two accumulators, one loop per type (its offsets constant inside it).
AVX2 static inline __attribute__((always_inline)) float exact_5bit_type(const int type, const uint8_t *w, const float *xt, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins0 = _mm256_setzero_ps(), mins1 = _mm256_setzero_ps();
    const float *t = xt + 32 * blocks;
    const int bytes = block_bytes(type);
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 2 * bytes) {
        PREFETCH(w);
        five_bit_block(type, w, xt + 32 * i, t + 8 * i, &acc0, &mins0);
        five_bit_block(type, w + bytes, xt + 32 * i + 32, t + 8 * i + 8, &acc1, &mins1);
    }
    if (i < blocks) five_bit_block(type, w, xt + 32 * i, t + 8 * i, &acc0, &mins0);
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(mins0, mins1)));
}

// Q5_K: exact_q4_K's scheme (d·scale and dmin·min for the block's eight groups in two vectors, a
// group's scale one lane permutation, the mins against the groups' Σ x in one multiply-add), the
// values' fifth bits (32 bytes at 16: bit g of byte l for group g's value l) ORed in.
AVX2 static float exact_q5_K(const uint8_t *w, const float *xt, const float *xs, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    const __m256i low = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < blocks; i++, w += 176, xt += 256, xs += 8) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w)));
        __m128i packed = q4_K_scale_bytes(w);
        __m256 scales = _mm256_mul_ps(_mm256_broadcastss_ps(dm), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(packed)));
        __m256 ms = _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(packed, 8))));
        mins = _mm256_fmadd_ps(ms, _mm256_loadu_ps(xs), mins);
        __m256i high = _mm256_loadu_si256((const __m256i *)(w + 16));
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 48 + pair * 32));
            __m256i first = _mm256_or_si256(_mm256_and_si256(bytes, low), q5_K_high(high, 2 * pair));
            __m256i second = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), low), q5_K_high(high, 2 * pair + 1));
            acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(2 * pair)), byte_products(first, xt + pair * 64, _mm256_setzero_ps()), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(2 * pair + 1)),
                                   byte_products(second, xt + pair * 64 + 32, _mm256_setzero_ps()), acc1);
        }
    }
    return hsum(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), mins));
}

// Q2_K and Q3_K: sixteen groups of 16 values a block. A run of 32 (two_bits) holds two groups,
// lanes 0–3 of its dwords the first and lanes 4–7 the second, so one multiply-add applies both
// groups' d·scale (a lane permutation of the block's scales, converted together), as exact_q6_K
// does. Q2_K's mins meet the lanes' Σ x (`t`, offset 1) on an accumulator of their own; Q3_K's
// values are its low bits plus 4 where the high bit is set, and its products start from −4 times
// the lanes' Σ x (offset −4): d·sc·Σ (low + 4h − 4)·x.
AVX2 static inline __attribute__((always_inline)) float exact_low_K(const int type, const uint8_t *w, const float *xt, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    const float *t = xt + 256 * blocks;
    const __m256i pick[4] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                             _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
    const int bytes = block_bytes(type);
    for (int64_t i = 0; i < blocks; i++, w += bytes, xt += 256, t += 64) {
        PREFETCH(w); PREFETCH(w + 64);
        __m256 scales[2], ms[2];
        __m256i hmask = _mm256_setzero_si256();
        if (type == Q2_K) {
            __m128i packed = _mm_loadu_si128((const __m128i *)w), nibble = _mm_set1_epi8(0x0F);
            __m128i sc = _mm_and_si128(packed, nibble), mn = _mm_and_si128(_mm_srli_epi16(packed, 4), nibble);
            __m256 d = _mm256_set1_ps(half_f16c(w + 80)), dmin = _mm256_set1_ps(half_f16c(w + 82));
            scales[0] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(sc)));
            scales[1] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(sc, 8))));
            ms[0] = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(mn)));
            ms[1] = _mm256_mul_ps(dmin, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(mn, 8))));
        } else {
            __m128i sc = q3_K_scale_bytes(w);
            __m256 d = _mm256_set1_ps(half_f16c(w + 108));
            scales[0] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc)));
            scales[1] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(sc, 8))));
            hmask = _mm256_loadu_si256((const __m256i *)w);
        }
        for (int run = 0; run < 8; run++) {
            __m256 scale = _mm256_permutevar8x32_ps(scales[run / 4], pick[run % 4]);
            __m256 product;
            if (type == Q2_K) {
                product = byte_products(two_bits(w + 16, run), xt + 32 * run, _mm256_setzero_ps());
                mins = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(ms[run / 4], pick[run % 4]), _mm256_load_ps(t + 8 * run), mins);
            } else {
                product = byte_products(q2_3_K_run(Q3_K, w, hmask, run), xt + 32 * run, _mm256_load_ps(t + 8 * run));
            }
            if (run % 2 == 0) acc0 = _mm256_fmadd_ps(scale, product, acc0);
            else acc1 = _mm256_fmadd_ps(scale, product, acc1);
        }
    }
    return hsum(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), mins));
}

AVX2 float assay_exact_more_avx2(int type, const uint8_t *w, const float *xt, const float *xs, int64_t blocks) {
    switch (type) {
    case Q5_0: return exact_5bit_type(Q5_0, w, xt, blocks);
    case Q5_1: return exact_5bit_type(Q5_1, w, xt, blocks);
    case Q2_K: return exact_low_K(Q2_K, w, xt, blocks);
    case Q3_K: return exact_low_K(Q3_K, w, xt, blocks);
    default: return exact_q5_K(w, xt, xs, blocks);
    }
}
#endif
