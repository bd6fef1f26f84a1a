// Exact short batches on AVX2: dequantized weight tiles against every activation row, and the
// rows' dequantization for those tiles and for sgemm's panels.
#include "avx2.h"

#if ASSAY_X86
// MARK: - Exact short batches: dequantized tiles against every activation row

// Σ_k w[k]·x[k] as every pair of the tile product computes it, whatever the grouping: one
// 8-lane accumulator over k in steps of 8, then hsum, then the k % 8 tail in order.
AVX2 static inline float tile_dot(const float *w, const float *x, int64_t k) {
    __m256 acc = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), acc);
    float tail = 0;
    for (; j < k; j++) tail = fmaf(w[j], x[j], tail);
    return hsum(acc) + tail;
}

// Four weight rows against A (1–3) activation rows: 4·A accumulators, each the same sequence of
// multiply-adds as tile_dot's (so the outputs equal tile_dot's bit for bit), with every load
// shared by A or four of them. Inlined with a constant A, the arrays live in registers.
AVX2 static inline __attribute__((always_inline)) void tile_4xA(const float *w, const float *x, int64_t k, float *y, int64_t ldy,
                                                                  const int A) {
    __m256 c[4][3];
    for (int r = 0; r < 4; r++)
        for (int a = 0; a < A; a++) c[r][a] = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 v[3];
        for (int a = 0; a < A; a++) v[a] = _mm256_loadu_ps(x + a * k + j);
        for (int r = 0; r < 4; r++) {
            __m256 b = _mm256_loadu_ps(w + r * k + j);
            for (int a = 0; a < A; a++) c[r][a] = _mm256_fmadd_ps(b, v[a], c[r][a]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int a = 0; a < A; a++) {
            float tail = 0;
            for (int64_t t = j; t < k; t++) tail = fmaf(w[r * k + t], x[a * k + t], tail);
            y[a * ldy + r] = hsum(c[r][a]) + tail;
        }
}

AVX2 void assay_gemm_tile_avx2(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy) {
    if (n != 4) {
        for (int64_t a = 0; a < m; a++)
            for (int64_t r = 0; r < n; r++) y[a * ldy + r] = tile_dot(tile + r * k, x + a * k, k);
        return;
    }
    int64_t a = 0;
    for (; a + 3 <= m; a += 3) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 3);
    if (m - a == 2) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 2);
    if (m - a == 1) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 1);
}

// MARK: - Dequantization for tiles and panels

// Bytes 8·part … 8·part + 7 of `q` (part 0–3) as eight floats, read as int8 or uint8.
AVX2 static inline __m256 bytes_as_floats(__m256i q, int part, int is_signed) {
    __m128i half = part < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
    if (part & 1) half = _mm_srli_si128(half, 8);
    return _mm256_cvtepi32_ps(is_signed ? _mm256_cvtepi8_epi32(half) : _mm256_cvtepu8_epi32(half));
}

// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K-quants' rows as f32, the same floats as dequantize_block's: q converted
// exactly, times the (sub-)block scale (one rounding), minus or plus the minimum where the format
// has one (a second rounding: multiply and add are not fused). A short batch dequantizes every
// weight once per product (pool.c, kind 3), so this runs near memory speed instead of the scalar
// loop's ~3 values a nanosecond. Returns 0 for other types.
AVX2 int assay_dequantize_row_avx2(int type, const uint8_t *b, float *y, int64_t k) {
    int size = block_size(type), bytes = block_bytes(type);
    if (size == 0 || k % size != 0) return 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    switch (type) {
    case Q4_0: case Q4_1: case Q5_0: case Q5_1: case Q8_0:
        for (int64_t i = 0; i < k / 32; i++, b += bytes, y += 32) {
            int minimum = type == Q4_1 || type == Q5_1;
            __m256 d = _mm256_set1_ps(half_f16c(b)), m = _mm256_set1_ps(minimum ? half_f16c(b + 2) : 0);
            __m256i q;
            switch (type) {
            case Q4_0: q = _mm256_sub_epi8(nibbles(b + 2), _mm256_set1_epi8(8)); break;
            case Q4_1: q = nibbles(b + 4); break;
            case Q5_0: q = _mm256_sub_epi8(five_bits(b + 6, load_u32(b + 2)), _mm256_set1_epi8(16)); break;
            case Q5_1: q = five_bits(b + 8, load_u32(b + 4)); break;
            default: q = _mm256_loadu_si256((const __m256i *)(b + 2)); break;  // Q8_0
            }
            for (int p = 0; p < 4; p++) {
                __m256 v = _mm256_mul_ps(d, bytes_as_floats(q, p, 1));
                if (minimum) v = _mm256_add_ps(v, m);
                _mm256_storeu_ps(y + 8 * p, v);
            }
        }
        return 1;
    case Q2_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b + 80), dmin = half_f16c(b + 82);
            for (int run = 0; run < 8; run++) {
                __m256i q = two_bits(b + 16, run);
                for (int p = 0; p < 4; p++) {
                    uint8_t sc = b[2 * run + p / 2];  // group (32·run + 8·p) / 16: scale low, min high
                    __m256 v = _mm256_mul_ps(_mm256_set1_ps(d * (float)(sc & 0x0F)), bytes_as_floats(q, p, 0));
                    _mm256_storeu_ps(y + 32 * run + 8 * p, _mm256_sub_ps(v, _mm256_set1_ps(dmin * (float)(sc >> 4))));
                }
            }
        }
        return 1;
    case Q3_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b + 108);
            int8_t scales[16];
            _mm_storeu_si128((__m128i *)scales, q3_K_scale_bytes(b));
            __m256i hmask = _mm256_loadu_si256((const __m256i *)b);
            for (int run = 0; run < 8; run++) {
                __m256i q = _mm256_sub_epi8(two_bits(b + 32, run), q3_K_fours(hmask, run));
                for (int p = 0; p < 4; p++)
                    _mm256_storeu_ps(y + 32 * run + 8 * p, _mm256_mul_ps(_mm256_set1_ps(d * (float)scales[2 * run + p / 2]), bytes_as_floats(q, p, 1)));
            }
        }
        return 1;
    case Q4_K: case Q5_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b), dmin = half_f16c(b + 2);
            for (int group = 0; group < 8; group++) {
                uint8_t sc, mn;
                scale_min_k4(b + 4, group, &sc, &mn);
                __m256 scale = _mm256_set1_ps(d * (float)sc), minimum = _mm256_set1_ps(dmin * (float)mn);
                __m256i q = _mm256_loadu_si256((const __m256i *)(b + (type == Q4_K ? 16 : 48) + (group / 2) * 32));
                q = _mm256_and_si256(group % 2 ? _mm256_srli_epi16(q, 4) : q, low);
                if (type == Q5_K) q = _mm256_or_si256(q, q5_K_high(_mm256_loadu_si256((const __m256i *)(b + 16)), group));
                for (int p = 0; p < 4; p++)
                    _mm256_storeu_ps(y + group * 32 + 8 * p, _mm256_sub_ps(_mm256_mul_ps(scale, bytes_as_floats(q, p, 0)), minimum));
            }
        }
        return 1;
    case Q6_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b + 208);
            const __m256i bias = _mm256_set1_epi8(32);
            for (int half = 0; half < 2; half++) {
                const int8_t *sc = (const int8_t *)(b + 192 + half * 8);
                __m256i q[4];
                q6_K_values(b + half * 64, b + 128 + half * 32, q);
                float *out = y + half * 128;
                for (int g = 0; g < 4; g++) {
                    __m256i v = _mm256_sub_epi8(q[g], bias);
                    // Values l < 16 take scale is = 2g, the rest 2g + 1 (the scalar loop's sc[is + 2g]).
                    for (int p = 0; p < 4; p++) {
                        __m256 scale = _mm256_set1_ps(d * (float)sc[2 * g + p / 2]);
                        _mm256_storeu_ps(out + 32 * g + 8 * p, _mm256_mul_ps(scale, bytes_as_floats(v, p, 1)));
                    }
                }
            }
        }
        return 1;
    default:
        return 0;
    }
}
#endif
