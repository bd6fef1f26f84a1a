// ggml numerics on AVX2 for short batches (2–32 quantized activation rows): each weight block
// unpacked once for up to four activation rows.
#include "avx2.h"

#include <stdlib.h>

#if ASSAY_X86
// MARK: - ggml short batches: weight rows unpacked once for several activation rows

// A short batch of quantized activation rows (2–32 prompt tokens with ggml numerics) went
// through assay_gemv once per (few weight rows, activation row): every weight block was unpacked
// again for each activation row, and the 32-value formats converted the row's activation scales
// again for every few weight rows. Here a weight row (a pair for Q4_0/Q4_1, as decode pairs them)
// is unpacked once per block for up to four activation rows, and the activation scales once per
// part. Each output is still decode's: the same integer sums (exact in any order) and the same
// float operations in the same order per (weight row, activation row) as the kernels above.

// A pair of weight rows as dot2_q4_0_avx2 / dot2_q4_1_avx2 compute them, against R activation
// rows (row r at xq + r·xq_row_bytes; outputs y[r·ldy] and y[r·ldy + 1]): 2·R multiply-add
// chains in flight. The activation rows' block values sit four rows side by side (`ad4[4i + r]`
// the block scale, `as4[4i + r]` the extra term's: Q4_0 ad·Σq, Q4_1 the q8_1 sum), so the scale
// products and the extra term take one 4-lane multiply for the four rows (the same rounding lane
// by lane as the scalar products of dot2_*).
AVX2 static inline __attribute__((always_inline)) void q4_pair_rows(int type, const uint8_t *w0, const uint8_t *w1, const uint8_t *xq,
                                                                      size_t xq_row_bytes, const float *ad4, const float *as4,
                                                                      int64_t blocks, float *y, int64_t ldy, const int R) {
    const int is_q4_0 = type == Q4_0, wb = is_q4_0 ? 18 : 20, ab = is_q4_0 ? 34 : 36, offset = is_q4_0 ? 2 : 4;
    __m256 acc0[4], acc1[4];
    const uint8_t *a[4];
    for (int r = 0; r < R; r++) {
        acc0[r] = acc1[r] = _mm256_setzero_ps();
        a[r] = xq + r * xq_row_bytes + offset;
    }
    __m128 extra0 = _mm_setzero_ps(), extra1 = _mm_setzero_ps();
    float s0[4], s1[4];
    for (int64_t i = 0; i < blocks; i++, w0 += wb, w1 += wb) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i n0 = nibbles(w0 + offset), n1 = nibbles(w1 + offset);
        __m128 d0, d1, e0, e1;
        if (is_q4_0) {
            d0 = e0 = _mm_set1_ps(half_f16c(w0));
            d1 = e1 = _mm_set1_ps(half_f16c(w1));
        } else {
            __m128 dm0 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w0))), dm1 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w1)));
            d0 = _mm_shuffle_ps(dm0, dm0, 0x00);
            d1 = _mm_shuffle_ps(dm1, dm1, 0x00);
            e0 = _mm_shuffle_ps(dm0, dm0, 0x55);
            e1 = _mm_shuffle_ps(dm1, dm1, 0x55);
        }
        __m128 scales = _mm_loadu_ps(ad4 + 4 * i), sums = _mm_loadu_ps(as4 + 4 * i);
        _mm_storeu_ps(s0, _mm_mul_ps(d0, scales));
        _mm_storeu_ps(s1, _mm_mul_ps(d1, scales));
        extra0 = _mm_add_ps(extra0, _mm_mul_ps(e0, sums));
        extra1 = _mm_add_ps(extra1, _mm_mul_ps(e1, sums));
        for (int r = 0; r < R; r++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(a[r] + i * ab));
            acc0[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(s0 + r), dot_u8_i8(n0, v), acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(s1 + r), dot_u8_i8(n1, v), acc1[r]);
        }
    }
    float e0[4], e1[4];
    _mm_storeu_ps(e0, extra0);
    _mm_storeu_ps(e1, extra1);
    for (int r = 0; r < R; r++) {
        if (is_q4_0) {
            y[r * ldy] = hsum(acc0[r]) - 8 * e0[r];
            y[r * ldy + 1] = hsum(acc1[r]) - 8 * e1[r];
        } else {
            y[r * ldy] = hsum(acc0[r]) + e0[r];
            y[r * ldy + 1] = hsum(acc1[r]) + e1[r];
        }
    }
}

// dot_q8_0_avx2 for one weight row against R activation rows: even blocks on one accumulator,
// odd on the other.
AVX2 static inline __attribute__((always_inline)) void q8_0_row(const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes, const float *ad4,
                                                                  int64_t blocks, float *y, int64_t ldy, const int R) {
    __m256 acc[4][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w += 34) {
        if (i % 2 == 0) PREFETCH(w);
        __m256i v = _mm256_loadu_si256((const __m256i *)(w + 2)), magnitude = _mm256_sign_epi8(v, v);
        __m256 dv = _mm256_set1_ps(half_f16c(w));
        for (int r = 0; r < R; r++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(xq + r * xq_row_bytes + i * 34 + 2));
            __m256 p = dot_u8_i8(magnitude, _mm256_sign_epi8(a, v));
            __m256 scale = _mm256_mul_ps(dv, _mm256_broadcast_ss(ad4 + 4 * i + r));
            if (i % 2 == 0) acc[r][0] = _mm256_fmadd_ps(scale, p, acc[r][0]);
            else acc[r][1] = _mm256_fmadd_ps(scale, p, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
}

// Block i of a Q5_0 or Q5_1 row against R activation rows, onto their accumulators and offsets
// (Q5_0's d·Σy) or mins (Q5_1's m·s), as dot_q5_0_avx2 / dot_q5_1_avx2 add them.
AVX2 static inline __attribute__((always_inline)) void q5_block(const int type, const uint8_t *w, int64_t i, const uint8_t *xq,
                                                                  size_t xq_row_bytes, const float *ad4, const float *as4, __m256 acc[4],
                                                                  float extra[4], const int R) {
    const int ab = type == Q5_0 ? 34 : 36, at = type == Q5_0 ? 2 : 4;
    __m256i v = five_bits(w + at + 4, load_u32(w + at));
    float d = half_f16c(w), e = type == Q5_0 ? d : half_f16c(w + 2);
    for (int r = 0; r < R; r++) {
        __m256 p = dot_u8_i8(v, _mm256_loadu_si256((const __m256i *)(xq + r * xq_row_bytes + i * ab + at)));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * ad4[4 * i + r]), p, acc[r]);
        extra[r] += e * as4[4 * i + r];
    }
}

// One Q5_0 or Q5_1 weight row against R activation rows: even blocks on one set of accumulators
// and odd ones on the other (named, so they stay in registers), as decode's kernels run them.
AVX2 static inline __attribute__((always_inline)) void q5_row(const int type, const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes,
                                                                const float *ad4, const float *as4, int64_t blocks, float *y, int64_t ldy,
                                                                const int R) {
    const int wb = type == Q5_0 ? 22 : 24;
    __m256 acc0[4], acc1[4];
    float extra0[4], extra1[4];
    for (int r = 0; r < R; r++) {
        acc0[r] = acc1[r] = _mm256_setzero_ps();
        extra0[r] = extra1[r] = 0;
    }
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 2 * wb) {
        PREFETCH(w);
        q5_block(type, w, i, xq, xq_row_bytes, ad4, as4, acc0, extra0, R);
        q5_block(type, w + wb, i + 1, xq, xq_row_bytes, ad4, as4, acc1, extra1, R);
    }
    if (i < blocks) q5_block(type, w, i, xq, xq_row_bytes, ad4, as4, acc0, extra0, R);
    for (int r = 0; r < R; r++) {
        float sum = hsum(_mm256_add_ps(acc0[r], acc1[r]));
        y[r * ldy] = type == Q5_0 ? sum - 16 * (extra0[r] + extra1[r]) : sum + (extra0[r] + extra1[r]);
    }
}

// dot_4_5_K (avx2_ggml.c) for one Q4_K or Q5_K weight row against R activation rows (q8_K,
// `xq_row_bytes` apart).
AVX2 static inline __attribute__((always_inline)) void q4_K_row(const int type, const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes,
                                                                  int64_t blocks, float *y, int64_t ldy, const int R) {
    float sum[4] = {0, 0, 0, 0};
    const __m256i low_mask = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < blocks; i++, w += block_bytes(type)) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        __m256i scales, mins16;
        q4_K_scales(w, &scales, &mins16);
        __m256i scaled[4], fifth = _mm256_loadu_si256((const __m256i *)(w + 16));
        for (int r = 0; r < R; r++) scaled[r] = _mm256_setzero_si256();
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + (type == Q4_K ? 16 : 48) + pair * 32));
            __m256i low = _mm256_and_si256(bytes, low_mask), high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_mask);
            if (type == Q5_K) {
                low = _mm256_or_si256(low, q5_K_high(fifth, 2 * pair));
                high = _mm256_or_si256(high, q5_K_high(fifth, 2 * pair + 1));
            }
            __m256i s0 = _mm256_shuffle_epi8(scales, word_picker(2 * pair)), s1 = _mm256_shuffle_epi8(scales, word_picker(2 * pair + 1));
            for (int r = 0; r < R; r++) {
                const int8_t *q = q8_K_values(xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES) + pair * 64;
                __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)q)), s0);
                __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(q + 32))), s1);
                scaled[r] = _mm256_add_epi32(scaled[r], _mm256_add_epi32(p0, p1));
            }
        }
        // Group g's min meets the activations' sums 2g and 2g + 1 (int16 each).
        float d = half_f16c(w), dmin = half_f16c(w + 2);
        for (int r = 0; r < R; r++) {
            const uint8_t *a = xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES;
            int mins = hsum_epi32(_mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)(a + 260))));
            float da = q8_K_scale(a);
            sum[r] += da * d * (float)hsum_epi32(scaled[r]) - da * dmin * (float)mins;
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = sum[r];
}

// dot_q6_K_avx2 for one weight row against R activation rows.
AVX2 static inline __attribute__((always_inline)) void q6_K_row(const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes, int64_t blocks,
                                                                  float *y, int64_t ldy, const int R) {
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < blocks; i++, w += 210) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128); PREFETCH(w + 192);
        __m256i scales16, groups[2];
        q6_K_scales(w, &scales16, groups);
        __m256i scaled[4];
        for (int r = 0; r < R; r++) scaled[r] = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i v[4];
            q6_K_values(w + half * 64, w + 128 + half * 32, v);
            for (int run = 0; run < 4; run++) {
                int e = half * 128 + run * 32;
                __m256i scale = q6_K_run_scales(groups[half], run);
                for (int r = 0; r < R; r++) {
                    const int8_t *q = q8_K_values(xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES);
                    __m256i pairs = _mm256_maddubs_epi16(v[run], _mm256_loadu_si256((const __m256i *)(q + e)));
                    scaled[r] = _mm256_add_epi32(scaled[r], _mm256_madd_epi16(pairs, scale));
                }
            }
        }
        // Σ_g scales[g] · (the activations' sum of group g), 16 int16 products in pairs.
        float d = half_f16c(w + 208);
        for (int r = 0; r < R; r++) {
            const uint8_t *a = xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES;
            int offset = hsum_epi32(_mm256_madd_epi16(scales16, _mm256_loadu_si256((const __m256i *)(a + 260))));
            sum[r] += q8_K_scale(a) * d * (float)(hsum_epi32(scaled[r]) - 32 * offset);
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = sum[r];
}

// dot_2_3_K (avx2_ggml.c) for one Q2_K or Q3_K weight row against R activation rows: each run's
// values unpacked once for the R rows.
AVX2 static inline __attribute__((always_inline)) void q2_3_K_row(const int type, const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes,
                                                                    int64_t blocks, float *y, int64_t ldy, const int R) {
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < blocks; i++, w += block_bytes(type)) {
        PREFETCH(w); PREFETCH(w + 64);
        __m256i groups[2], paired, hmask, scaled[4];
        q2_3_K_block(type, w, groups, &paired, &hmask);
        for (int r = 0; r < R; r++) scaled[r] = _mm256_setzero_si256();
        for (int run = 0; run < 8; run++) {
            __m256i scale = q6_K_run_scales(groups[run / 4], run % 4), values = q2_3_K_run(type, w, hmask, run);
            for (int r = 0; r < R; r++) {
                const int8_t *q = q8_K_values(xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES);
                __m256i pairs = _mm256_maddubs_epi16(values, _mm256_loadu_si256((const __m256i *)(q + 32 * run)));
                scaled[r] = _mm256_add_epi32(scaled[r], _mm256_madd_epi16(pairs, scale));
            }
        }
        for (int r = 0; r < R; r++) sum[r] += q2_3_K_block_value(type, w, xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES, scaled[r], paired);
    }
    for (int r = 0; r < R; r++) y[r * ldy] = sum[r];
}

// Weight row `row` (and row + 1 for Q4_0/Q4_1) against R activation rows.
AVX2 static inline __attribute__((always_inline)) void quantized_rows(int type, const uint8_t *w, size_t row_bytes, int64_t k, int64_t row,
                                                                        const uint8_t *xq, size_t xq_row_bytes, const float *ad4,
                                                                        const float *as4, float *y, int64_t ldy, const int R) {
    const uint8_t *w0 = w + (size_t)row * row_bytes;
    switch (type) {
    case Q4_0: case Q4_1: q4_pair_rows(type, w0, w0 + row_bytes, xq, xq_row_bytes, ad4, as4, k / 32, y + row, ldy, R); break;
    case Q5_0: q5_row(Q5_0, w0, xq, xq_row_bytes, ad4, as4, k / 32, y + row, ldy, R); break;
    case Q5_1: q5_row(Q5_1, w0, xq, xq_row_bytes, ad4, as4, k / 32, y + row, ldy, R); break;
    case Q8_0: q8_0_row(w0, xq, xq_row_bytes, ad4, k / 32, y + row, ldy, R); break;
    case Q4_K: q4_K_row(Q4_K, w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    case Q5_K: q4_K_row(Q5_K, w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    case Q2_K: q2_3_K_row(Q2_K, w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    case Q3_K: q2_3_K_row(Q3_K, w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    default: q6_K_row(w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    }
}

AVX2 int assay_gemm_quantized_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                                   int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    int paired = type == Q4_0 || type == Q4_1, extra = paired || type == Q5_0 || type == Q5_1, small_blocks = extra || type == Q8_0;
    if (!small_blocks && type != Q2_K && type != Q3_K && type != Q4_K && type != Q5_K && type != Q6_K) return 0;
    if (assay_ggml_rows_avx512_available(type)) return assay_ggml_rows_avx512(type, w, row_bytes, k, xq, xq_row_bytes, m, y + r0, ldy, r0, r1);
    int64_t blocks = k / 32, groups = (m + 3) / 4;
    float *ad4 = NULL, *as4 = NULL;
    if (small_blocks) {
        // Longer rows take decode's portable products (assay_gemv_ggml_avx2): so do they here.
        if (blocks > SCALED_BLOCKS) return 0;
        // Each group of four activation rows: per block, the four rows' values side by side
        // (rows missing from the last group 0).
        size_t values = (size_t)groups * 4 * (size_t)(blocks ? blocks : 1);
        ad4 = calloc(extra ? 2 * values : values, sizeof(float));  // Q8_0 has no extra term
        if (!ad4) return 0;
        as4 = extra ? ad4 + values : NULL;
        int q8_1 = type == Q4_1 || type == Q5_1, bytes = q8_1 ? 36 : 34;
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        for (int64_t a = 0; a < m; a++)
            for (int64_t i = 0; i < blocks; i++) {
                const uint8_t *block = xq + a * xq_row_bytes + i * bytes;
                size_t at = (size_t)((a / 4) * blocks + i) * 4 + (size_t)(a % 4);
                float d = half_f16c(block);
                ad4[at] = d;
                if (q8_1) as4[at] = half_f16c(block + 2);
                if (type == Q4_0 || type == Q5_0) {
                    // Σ of the 32 int8 values (maddubs of ones and q: pairs summed exactly).
                    __m256i q = _mm256_loadu_si256((const __m256i *)(block + 2));
                    as4[at] = d * (float)hsum_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16));
                }
            }
    }
    // About 16 KB of weight rows (an even count) meet every group of four activation rows while
    // they are in L1, so the weights are read from memory once.
    int64_t step = (int64_t)(16384 / (row_bytes ? row_bytes : 1)) & ~(int64_t)1;
    if (step < 2) step = 2;
    int width = paired ? 2 : 1;
    for (int64_t r = r0; r < r1; r += step) {
        int64_t end = r + step < r1 ? r + step : r1;
        for (int64_t a = 0; a < m; a += 4) {
            const uint8_t *x = xq + a * xq_row_bytes;
            const float *sa = ad4 ? ad4 + (a / 4) * blocks * 4 : NULL, *ss = as4 ? as4 + (a / 4) * blocks * 4 : NULL;
            float *out = y + a * ldy;
            // Q4_0 and Q4_1 rows go in decode's pairs (from an even row); a lone last row of an
            // odd count takes decode's one-row kernel, as in decode.
            int64_t row = r;
            for (; row + width <= end; row += width) {
                switch (m - a < 4 ? (int)(m - a) : 4) {
                case 4: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 4); break;
                case 3: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 3); break;
                case 2: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 2); break;
                default: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 1); break;
                }
            }
            for (int64_t b = a; row < end && b < m && b < a + 4; b++)
                assay_gemv_ggml_avx2(type, w, row_bytes, k, xq + b * xq_row_bytes, y + b * ldy + row, row, end);
        }
    }
    free(ad4);
    return 1;
}
#endif
