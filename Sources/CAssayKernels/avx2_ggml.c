// ggml numerics on AVX2 for one activation row (decode): the weights' integer block products with
// activations quantized to their vec-dot type (Q8_0, Q8_1, Q8_K), as ggml's x86 kernels compute them.
#include "avx2.h"

#if ASSAY_X86
// The 32-value formats below take the activations' block scales already as floats (`ad`, and
// for q8_1 the block sums `as`), converted once per product instead of once per row, and run two
// blocks per step on two accumulators so the FMA latency chain is split.

AVX2 static float dot_q4_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 36, a += 68) {
        if (i % 4 == 0) PREFETCH(w);
        __m256i x0 = _mm256_sub_epi8(nibbles(w + 2), eight), x1 = _mm256_sub_epi8(nibbles(w + 20), eight);
        __m256 p0 = dot_i8_i8(x0, _mm256_loadu_si256((const __m256i *)(a + 2)));
        __m256 p1 = dot_i8_i8(x1, _mm256_loadu_si256((const __m256i *)(a + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w + 18) * ad[i + 1]), p1, acc1);
    }
    if (i < blocks) {
        __m256 p = dot_i8_i8(_mm256_sub_epi8(nibbles(w + 2), eight), _mm256_loadu_si256((const __m256i *)(a + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p, acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

AVX2 static float dot_q4_1_avx2(const uint8_t *w, const uint8_t *a, const float *ad, const float *as, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins0 = 0, mins1 = 0;
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 40, a += 72) {
        if (i % 4 == 0) PREFETCH(w);
        // Each block's d and m: two halves side by side, converted in one instruction.
        __m128 dm0 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w))), dm1 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w + 20)));
        __m256 p0 = dot_u8_i8(nibbles(w + 4), _mm256_loadu_si256((const __m256i *)(a + 4)));
        __m256 p1 = dot_u8_i8(nibbles(w + 24), _mm256_loadu_si256((const __m256i *)(a + 40)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm0) * ad[i]), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm1) * ad[i + 1]), p1, acc1);
        mins0 += _mm_cvtss_f32(_mm_movehdup_ps(dm0)) * as[i];
        mins1 += _mm_cvtss_f32(_mm_movehdup_ps(dm1)) * as[i + 1];
    }
    if (i < blocks) {
        __m256 p = dot_u8_i8(nibbles(w + 4), _mm256_loadu_si256((const __m256i *)(a + 4)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p, acc0);
        mins0 += half_f16c(w + 2) * as[i];
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + (mins0 + mins1);
}

// Two rows at once against the same activations (their loads and scales shared). Q4_0 takes
// its nibbles unsigned: Σ (q − 8)·y = Σ q·y − 8·Σ y, with Σ y per block (`ys`, already times
// the activation scale) computed once per product.
AVX2 static void dot2_q4_0_avx2(const uint8_t *w0, const uint8_t *w1, const uint8_t *a, const float *ad, const float *ys, int64_t blocks,
                                float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 offset0 = _mm_setzero_ps(), offset1 = _mm_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w0 += 18, w1 += 18, a += 34) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 2));
        // d in lane 0 (F16C on a 16-byte load within the block); the scalar products in lane 0.
        __m128 d0 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w0)), d1 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w1));
        __m128 scale = _mm_load_ss(ad + i), sum = _mm_load_ss(ys + i);
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(d0, scale)), dot_u8_i8(nibbles(w0 + 2), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(d1, scale)), dot_u8_i8(nibbles(w1 + 2), y), acc1);
        offset0 = _mm_add_ss(offset0, _mm_mul_ss(d0, sum));
        offset1 = _mm_add_ss(offset1, _mm_mul_ss(d1, sum));
    }
    out[0] = hsum(acc0) - 8 * _mm_cvtss_f32(offset0);
    out[1] = hsum(acc1) - 8 * _mm_cvtss_f32(offset1);
}

// Q4_1 against q8_1 (d·a_d·Σq·y + m·a_s), two weight rows sharing each activation block.
AVX2 static void dot2_q4_1_avx2(const uint8_t *w0, const uint8_t *w1, const uint8_t *a, const float *ad, const float *as, int64_t blocks,
                                float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins0 = _mm_setzero_ps(), mins1 = _mm_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w0 += 20, w1 += 20, a += 36) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 4));
        __m128 dm0 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w0)), dm1 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w1));
        __m128 scale = _mm_load_ss(ad + i), sum = _mm_load_ss(as + i);
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(dm0, scale)), dot_u8_i8(nibbles(w0 + 4), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(dm1, scale)), dot_u8_i8(nibbles(w1 + 4), y), acc1);
        mins0 = _mm_add_ss(mins0, _mm_mul_ss(_mm_movehdup_ps(dm0), sum));
        mins1 = _mm_add_ss(mins1, _mm_mul_ss(_mm_movehdup_ps(dm1), sum));
    }
    out[0] = hsum(acc0) + _mm_cvtss_f32(mins0);
    out[1] = hsum(acc1) + _mm_cvtss_f32(mins1);
}

AVX2 static float dot_q8_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 68, a += 68) {
        PREFETCH(w);
        __m256 p0 = dot_i8_i8(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(a + 2)));
        __m256 p1 = dot_i8_i8(_mm256_loadu_si256((const __m256i *)(w + 36)), _mm256_loadu_si256((const __m256i *)(a + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w + 34) * ad[i + 1]), p1, acc1);
    }
    if (i < blocks) {
        __m256 p = dot_i8_i8(_mm256_loadu_si256((const __m256i *)(w + 2)), _mm256_loadu_si256((const __m256i *)(a + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p, acc0);
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}


// Q5_0 against q8_0, values taken unsigned (0–31, so maddubs needs no sign trick): Σ (q − 16)·y =
// Σ q·y − 16·Σ y, with Σ y per block (`ys`, already times the activation scale) computed once per
// product, as dot2_q4_0_avx2 does.
AVX2 static float dot_q5_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, const float *ys, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float offset0 = 0, offset1 = 0;
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 44, a += 68) {
        PREFETCH(w);
        float d0 = half_f16c(w), d1 = half_f16c(w + 22);
        __m256 p0 = dot_u8_i8(five_bits(w + 6, load_u32(w + 2)), _mm256_loadu_si256((const __m256i *)(a + 2)));
        __m256 p1 = dot_u8_i8(five_bits(w + 28, load_u32(w + 24)), _mm256_loadu_si256((const __m256i *)(a + 36)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * ad[i]), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * ad[i + 1]), p1, acc1);
        offset0 += d0 * ys[i];
        offset1 += d1 * ys[i + 1];
    }
    if (i < blocks) {
        float d = half_f16c(w);
        __m256 p = dot_u8_i8(five_bits(w + 6, load_u32(w + 2)), _mm256_loadu_si256((const __m256i *)(a + 2)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d * ad[i]), p, acc0);
        offset0 += d * ys[i];
    }
    return hsum(_mm256_add_ps(acc0, acc1)) - 16 * (offset0 + offset1);
}

// Q5_1 against q8_1: values 0–31 unsigned (d·a_d·Σq·y + m·a_s, as Q4_1).
AVX2 static float dot_q5_1_avx2(const uint8_t *w, const uint8_t *a, const float *ad, const float *as, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins0 = 0, mins1 = 0;
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 48, a += 72) {
        if (i % 4 == 0) PREFETCH(w);
        __m128 dm0 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w))), dm1 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w + 24)));
        __m256 p0 = dot_u8_i8(five_bits(w + 8, load_u32(w + 4)), _mm256_loadu_si256((const __m256i *)(a + 4)));
        __m256 p1 = dot_u8_i8(five_bits(w + 32, load_u32(w + 28)), _mm256_loadu_si256((const __m256i *)(a + 40)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm0) * ad[i]), p0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm1) * ad[i + 1]), p1, acc1);
        mins0 += _mm_cvtss_f32(_mm_movehdup_ps(dm0)) * as[i];
        mins1 += _mm_cvtss_f32(_mm_movehdup_ps(dm1)) * as[i + 1];
    }
    if (i < blocks) {
        __m256 p = dot_u8_i8(five_bits(w + 8, load_u32(w + 4)), _mm256_loadu_si256((const __m256i *)(a + 4)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w) * ad[i]), p, acc0);
        mins0 += half_f16c(w + 2) * as[i];
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + (mins0 + mins1);
}

// Q4_K: 8 groups of 32 four-bit values with 6-bit scales and mins; the integer sums per group
// come from maddubs, the mins from the activations' block sums.
// Q5_K is Q4_K's layout with a fifth bit per value (32 bytes at 16: bit g of byte l for group g's
// value l) ORed into each byte; values up to 31, so maddubs' pair sums (≤ 2·31·128) do not
// saturate either.
AVX2 static inline __attribute__((always_inline)) float dot_4_5_K(const int type, const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < blocks; i++, w += block_bytes(type), a += ASSAY_Q8_K_BYTES) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        const int8_t *q = q8_K_values(a);
        __m256i scales, mins;
        q4_K_scales(w, &scales, &mins);
        __m256i fifth = type == Q5_K ? _mm256_loadu_si256((const __m256i *)(w + 16)) : _mm256_setzero_si256(), scaled = _mm256_setzero_si256();
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + (type == Q4_K ? 16 : 48) + pair * 32));
            __m256i low = _mm256_and_si256(bytes, nibble), high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), nibble);
            if (type == Q5_K) {
                low = _mm256_or_si256(low, q5_K_high(fifth, 2 * pair));
                high = _mm256_or_si256(high, q5_K_high(fifth, 2 * pair + 1));
            }
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)(q + pair * 64))),
                                           _mm256_shuffle_epi8(scales, word_picker(2 * pair)));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(q + pair * 64 + 32))),
                                           _mm256_shuffle_epi8(scales, word_picker(2 * pair + 1)));
            scaled = _mm256_add_epi32(scaled, _mm256_add_epi32(p0, p1));
        }
        int m = hsum_epi32(_mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)(a + 260))));
        float da = q8_K_scale(a);
        sum += da * half_f16c(w) * (float)hsum_epi32(scaled) - da * half_f16c(w + 2) * (float)m;
    }
    return sum;
}

// Q2_K and Q3_K: sixteen groups of 16 values a block. A run of 32 values (two_bits) holds two
// groups, one per 128-bit lane, so one madd applies both groups' scales (as Q6_K's runs). Q2_K:
// 4-bit scales (low nibbles) and mins (high ones), the mins against Q8_K's sixteen sums in one
// madd. Q3_K: 6-bit signed scales, and a high bit per value (set: the value is the low bits;
// clear: they less 4), multiplied as the unsigned value + 4 (0–7; pairs within ±1,792, so
// maddubs never saturates), and Σ_j sc_j · 4 · Σy_j taken off once a block (as Q6_K's 32).
AVX2 static inline __attribute__((always_inline)) float dot_2_3_K(const int type, const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += block_bytes(type), a += ASSAY_Q8_K_BYTES) {
        PREFETCH(w); PREFETCH(w + 64);
        const int8_t *q = q8_K_values(a);
        __m256i groups[2], paired, hmask, scaled = _mm256_setzero_si256();
        q2_3_K_block(type, w, groups, &paired, &hmask);
        for (int run = 0; run < 8; run++) {
            __m256i pairs = _mm256_maddubs_epi16(q2_3_K_run(type, w, hmask, run), _mm256_loadu_si256((const __m256i *)(q + 32 * run)));
            scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(pairs, q6_K_run_scales(groups[run / 4], run % 4)));
        }
        sum += q2_3_K_block_value(type, w, a, scaled, paired);
    }
    return sum;
}

// Q6_K: 16 groups of 16 six-bit values (stored +32) with int8 scales. Σ (q − 32)·y is computed
// as Σ q·y − 32·Σ y, the latter from the activations' block sums (Q8_K's sixteen, in one madd
// with the scales). A run of 32 has two groups of 16, one per 128-bit lane; the block's sixteen
// scales are widened once, and each run's pair of scales is one byte shuffle of them. Integer
// sums: the same result as per group in scalar code (which had taken a third of the block's
// instructions).
AVX2 static float dot_q6_K_avx2(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 210, a += ASSAY_Q8_K_BYTES) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128); PREFETCH(w + 192);
        const int8_t *q = q8_K_values(a);
        __m256i scales, groups[2];
        q6_K_scales(w, &scales, groups);
        __m256i scaled = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i v[4];
            q6_K_values(w + half * 64, w + 128 + half * 32, v);
            for (int run = 0; run < 4; run++) {
                __m256i y = _mm256_loadu_si256((const __m256i *)(q + half * 128 + run * 32));
                __m256i pairs = _mm256_maddubs_epi16(v[run], y);  // 16 sums of 2, values 0..63: no saturation
                scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(pairs, q6_K_run_scales(groups[half], run)));
            }
        }
        __m256i offset = _mm256_madd_epi16(scales, _mm256_loadu_si256((const __m256i *)(a + 260)));
        scaled = _mm256_sub_epi32(scaled, _mm256_slli_epi32(offset, 5));
        sum += q8_K_scale(a) * half_f16c(w + 208) * (float)hsum_epi32(scaled);
    }
    return sum;
}

AVX2 void assay_gemv_ggml_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, float *y, int64_t r0,
                               int64_t r1) {
    if (assay_ggml_rows_avx512_available(type) && assay_ggml_rows_avx512(type, w, row_bytes, k, xq, 0, 1, y, 0, r0, r1)) return;
    float ad[SCALED_BLOCKS], as[SCALED_BLOCKS];
    int scaled = (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q8_0) && k / 32 <= SCALED_BLOCKS;
    if (scaled) {
        int q8_1 = type == Q4_1 || type == Q5_1, bytes = q8_1 ? 36 : 34;
        for (int64_t i = 0; i < k / 32; i++) {
            ad[i] = half_f16c(xq + i * bytes);
            if (q8_1) as[i] = half_f16c(xq + i * bytes + 2);
            if (type == Q4_0 || type == Q5_0) {
                int sum = 0;
                for (int j = 0; j < 32; j++) sum += ((const int8_t *)(xq + i * bytes + 2))[j];
                as[i] = ad[i] * (float)sum;
            }
        }
        if (type == Q4_0 || type == Q4_1) {
            // r0 and y advance together, so the loop below still writes y[r − r0].
            for (; r0 + 2 <= r1; r0 += 2, y += 2) {
                const uint8_t *row = w + (size_t)r0 * row_bytes;
                if (type == Q4_0) dot2_q4_0_avx2(row, row + row_bytes, xq, ad, as, k / 32, y);
                else dot2_q4_1_avx2(row, row + row_bytes, xq, ad, as, k / 32, y);
            }
        }
    }
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        float value;
        switch (type) {
        case Q4_0: value = scaled ? dot_q4_0_avx2(row, xq, ad, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
        case Q4_1: value = scaled ? dot_q4_1_avx2(row, xq, ad, as, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
        case Q5_0: value = scaled ? dot_q5_0_avx2(row, xq, ad, as, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
        case Q5_1: value = scaled ? dot_q5_1_avx2(row, xq, ad, as, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
        case Q8_0: value = scaled ? dot_q8_0_avx2(row, xq, ad, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
        case Q2_K: value = dot_2_3_K(Q2_K, row, xq, k / 256); break;
        case Q3_K: value = dot_2_3_K(Q3_K, row, xq, k / 256); break;
        case Q4_K: value = dot_4_5_K(Q4_K, row, xq, k / 256); break;
        case Q5_K: value = dot_4_5_K(Q5_K, row, xq, k / 256); break;
        case Q6_K: value = dot_q6_K_avx2(row, xq, k / 256); break;
        default: value = assay_dot_quantized_portable(type, row, xq, k); break;
        }
        y[r - r0] = value;
    }
}
#endif
