// One query row per head against the KV cache read in place (decode): the scores q·k and the
// weighted sum of the values, an f16 cache's halves converted as they are read. Converting a
// layer's whole f16 cache to f32 for every token had cost more than the attention itself once the
// context held a few hundred positions (a fresh f32 copy of every layer's keys and values per
// token, on the caller's thread alone), and an f32 cache took two OpenBLAS calls per head. The
// query heads that share a KV head go through together, each block of cached rows read from
// memory once for all of them (each head reading the cache alone had left the loads waiting:
// 10.6 % of a 1,024-token generation's samples on the 1.1B shape, 6.2 % together). Both cache
// types sum in the same order, so with values that are halves already (`ggml` numerics) they give
// the same bits.
#include "avx2.h"
#include "assay_kernels.h"

#if ASSAY_X86
// Eight cached values as floats: halves converted (F16C), or floats loaded.
AVX2 static inline __attribute__((always_inline)) __m256 cached8(const void *row, int half, int64_t i) {
    return half ? _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)row + i))) : _mm256_loadu_ps((const float *)row + i);
}

AVX2 static inline __attribute__((always_inline)) float cached1(const void *row, int half, int64_t i) {
    return half ? _cvtsh_ss(((const uint16_t *)row)[i]) : ((const float *)row)[i];
}

// hsum of four vectors at once, each summed in hsum's order ((h0 + h2) + (h1 + h3) with
// h_l = v[l] + v[l + 4]), so every lane of the result is the bits hsum gives for its vector.
AVX2 static inline __m128 hsum4(__m256 v0, __m256 v1, __m256 v2, __m256 v3) {
    __m256 h01 = _mm256_add_ps(_mm256_permute2f128_ps(v0, v1, 0x20), _mm256_permute2f128_ps(v0, v1, 0x31));
    __m256 h23 = _mm256_add_ps(_mm256_permute2f128_ps(v2, v3, 0x20), _mm256_permute2f128_ps(v2, v3, 0x31));
    // [h0+h2, h1+h3] of v0 and v2 in the low lane, of v1 and v3 in the high lane
    __m256 s = _mm256_add_ps(_mm256_shuffle_ps(h01, h23, _MM_SHUFFLE(1, 0, 1, 0)), _mm256_shuffle_ps(h01, h23, _MM_SHUFFLE(3, 2, 3, 2)));
    __m256 t = _mm256_add_ps(_mm256_shuffle_ps(s, s, _MM_SHUFFLE(2, 0, 2, 0)), _mm256_shuffle_ps(s, s, _MM_SHUFFLE(3, 1, 3, 1)));
    return _mm_unpacklo_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// One score: two chains of eight lanes over each 16 values, the last eight into the first chain,
// hsum, then the last d % 8 values one by one (dot_portable's order).
AVX2 static inline __attribute__((always_inline)) float dot1(const float *q, const void *row, int half, int64_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= d; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), cached8(row, half, i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), cached8(row, half, i + 8), a1);
    }
    if (i + 8 <= d) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), cached8(row, half, i), a0), i += 8;
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += q[i] * cached1(row, half, i);
    return s;
}

// Four positions at a time share each load of q and one hsum4, and every query head of the group
// takes them while their rows are in L1 (the group's heads share one KV head); the sums are dot1's.
AVX2 static inline __attribute__((always_inline)) void scores_avx2(const float *q, int64_t heads, const void *k, int half, int64_t stride,
                                                                  int64_t d, int64_t first, int64_t count, float scale, float *scores,
                                                                  int64_t scores_stride) {
    size_t bytes = half ? 2 : 4;
#define ROW(j) ((const uint8_t *)k + (size_t)((j) * stride) * bytes)
    int64_t j = first;
    if (d % 8 == 0)
        for (; j + 4 <= count; j += 4) {
            const void *r0 = ROW(j), *r1 = ROW(j + 1), *r2 = ROW(j + 2), *r3 = ROW(j + 3);
            for (int64_t h = 0; h < heads; h++) {
                const float *qh = q + h * d;
                __m256 a[4][2];
                for (int r = 0; r < 4; r++) a[r][0] = a[r][1] = _mm256_setzero_ps();
                int64_t i = 0;
                for (; i + 16 <= d; i += 16) {
                    __m256 q0 = _mm256_loadu_ps(qh + i), q1 = _mm256_loadu_ps(qh + i + 8);
                    a[0][0] = _mm256_fmadd_ps(q0, cached8(r0, half, i), a[0][0]), a[0][1] = _mm256_fmadd_ps(q1, cached8(r0, half, i + 8), a[0][1]);
                    a[1][0] = _mm256_fmadd_ps(q0, cached8(r1, half, i), a[1][0]), a[1][1] = _mm256_fmadd_ps(q1, cached8(r1, half, i + 8), a[1][1]);
                    a[2][0] = _mm256_fmadd_ps(q0, cached8(r2, half, i), a[2][0]), a[2][1] = _mm256_fmadd_ps(q1, cached8(r2, half, i + 8), a[2][1]);
                    a[3][0] = _mm256_fmadd_ps(q0, cached8(r3, half, i), a[3][0]), a[3][1] = _mm256_fmadd_ps(q1, cached8(r3, half, i + 8), a[3][1]);
                }
                if (i < d) {
                    __m256 q0 = _mm256_loadu_ps(qh + i);
                    a[0][0] = _mm256_fmadd_ps(q0, cached8(r0, half, i), a[0][0]);
                    a[1][0] = _mm256_fmadd_ps(q0, cached8(r1, half, i), a[1][0]);
                    a[2][0] = _mm256_fmadd_ps(q0, cached8(r2, half, i), a[2][0]);
                    a[3][0] = _mm256_fmadd_ps(q0, cached8(r3, half, i), a[3][0]);
                }
                __m128 sum = hsum4(_mm256_add_ps(a[0][0], a[0][1]), _mm256_add_ps(a[1][0], a[1][1]), _mm256_add_ps(a[2][0], a[2][1]),
                                   _mm256_add_ps(a[3][0], a[3][1]));
                _mm_storeu_ps(scores + h * scores_stride + j, _mm_mul_ps(_mm_set1_ps(scale), sum));
            }
        }
    for (; j < count; j++)
        for (int64_t h = 0; h < heads; h++) scores[h * scores_stride + j] = scale * dot1(q + h * d, ROW(j), half, d);
#undef ROW
}

// The weighted values with the sums in registers across positions: 64 outputs (eight chains) at
// a time for 32 positions, every query head of the group taking those rows while they are in L1
// (each head's sums stored and reloaded between blocks), then eight outputs, then one by one.
// Each output is the chain fmaf(p[j], v_j[i], ·) from zero over j in order, as the portable loop
// sums it.
AVX2 static inline __attribute__((always_inline)) void values_avx2(const float *p, int64_t p_stride, int64_t heads, const void *v, int half,
                                                                  int64_t stride, int64_t d, int64_t first, int64_t count, float *out) {
    size_t bytes = half ? 2 : 4;
#define ROW(j) ((const uint8_t *)v + (size_t)((j) * stride) * bytes)
    int64_t i = 0;
    for (; i + 64 <= d; i += 64) {
        for (int64_t h = 0; h < heads; h++)
            for (int c = 0; c < 8; c++) _mm256_storeu_ps(out + h * d + i + 8 * c, _mm256_setzero_ps());
        for (int64_t block = first; block < count; block += 32) {
            int64_t end = block + 32 < count ? block + 32 : count;
            for (int64_t h = 0; h < heads; h++) {
                const float *ph = p + h * p_stride;
                float *oh = out + h * d + i;
                __m256 a[8];
                for (int c = 0; c < 8; c++) a[c] = _mm256_loadu_ps(oh + 8 * c);
                for (int64_t j = block; j < end; j++) {
                    const void *row = ROW(j);
                    __m256 w = _mm256_broadcast_ss(ph + j);
                    for (int c = 0; c < 8; c++) a[c] = _mm256_fmadd_ps(w, cached8(row, half, i + 8 * c), a[c]);
                }
                for (int c = 0; c < 8; c++) _mm256_storeu_ps(oh + 8 * c, a[c]);
            }
        }
    }
    for (int64_t h = 0; h < heads; h++) {
        const float *ph = p + h * p_stride;
        float *oh = out + h * d;
        int64_t t = i;
        for (; t + 8 <= d; t += 8) {
            __m256 a = _mm256_setzero_ps();
            for (int64_t j = first; j < count; j++) a = _mm256_fmadd_ps(_mm256_broadcast_ss(ph + j), cached8(ROW(j), half, t), a);
            _mm256_storeu_ps(oh + t, a);
        }
        for (; t < d; t++) {
            float sum = 0;
            for (int64_t j = first; j < count; j++) sum = fmaf(ph[j], cached1(ROW(j), half, t), sum);
            oh[t] = sum;
        }
    }
#undef ROW
}

AVX2 static void scores_f16_avx2(const float *q, int64_t heads, const void *k, int64_t stride, int64_t d, int64_t first, int64_t count,
                                 float scale, float *scores, int64_t scores_stride) {
    scores_avx2(q, heads, k, 1, stride, d, first, count, scale, scores, scores_stride);
}
AVX2 static void scores_f32_avx2(const float *q, int64_t heads, const void *k, int64_t stride, int64_t d, int64_t first, int64_t count,
                                 float scale, float *scores, int64_t scores_stride) {
    scores_avx2(q, heads, k, 0, stride, d, first, count, scale, scores, scores_stride);
}
AVX2 static void values_f16_avx2(const float *p, int64_t p_stride, int64_t heads, const void *v, int64_t stride, int64_t d, int64_t first,
                                 int64_t count, float *out) {
    values_avx2(p, p_stride, heads, v, 1, stride, d, first, count, out);
}
AVX2 static void values_f32_avx2(const float *p, int64_t p_stride, int64_t heads, const void *v, int64_t stride, int64_t d, int64_t first,
                                 int64_t count, float *out) {
    values_avx2(p, p_stride, heads, v, 0, stride, d, first, count, out);
}
#endif

// The portable sums in the AVX2 kernels' order: two chains of eight lanes over each 16 values,
// the lanes then added pairwise as hsum does, the last d % 8 values one by one. (-ffp-contract=off
// would keep a * b + c two roundings where the AVX2 kernels fuse them: fmaf does as they do.)
static float dot_portable(const float *q, const void *k, int half, int64_t d) {
    float a[2][8] = {{0}};
    int64_t i = 0;
#define AT(n) (half ? half_to_float(((const uint16_t *)k)[n]) : ((const float *)k)[n])
    for (; i + 16 <= d; i += 16)
        for (int c = 0; c < 2; c++)
            for (int l = 0; l < 8; l++) a[c][l] = fmaf(q[i + 8 * c + l], AT(i + 8 * c + l), a[c][l]);
    for (; i + 8 <= d; i += 8)
        for (int l = 0; l < 8; l++) a[0][l] = fmaf(q[i + l], AT(i + l), a[0][l]);
    float v[8], s;
    for (int l = 0; l < 8; l++) v[l] = a[0][l] + a[1][l];
    float h[4] = {v[0] + v[4], v[1] + v[5], v[2] + v[6], v[3] + v[7]};
    s = (h[0] + h[2]) + (h[1] + h[3]);
    for (; i < d; i++) s += q[i] * AT(i);
#undef AT
    return s;
}

void assay_attention_scores(const float *q, int64_t heads, const void *k, int half, int64_t stride, int64_t d, int64_t first, int64_t count,
                            float scale, float *scores, int64_t scores_stride) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        if (half) scores_f16_avx2(q, heads, k, stride, d, first, count, scale, scores, scores_stride);
        else scores_f32_avx2(q, heads, k, stride, d, first, count, scale, scores, scores_stride);
        return;
    }
#endif
    size_t bytes = half ? 2 : 4;
    for (int64_t h = 0; h < heads; h++)
        for (int64_t j = first; j < count; j++)
            scores[h * scores_stride + j] = scale * dot_portable(q + h * d, (const uint8_t *)k + (size_t)(j * stride) * bytes, half, d);
}

void assay_attention_values(const float *p, int64_t p_stride, int64_t heads, const void *v, int half, int64_t stride, int64_t d, int64_t first,
                            int64_t count, float *out) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        if (half) values_f16_avx2(p, p_stride, heads, v, stride, d, first, count, out);
        else values_f32_avx2(p, p_stride, heads, v, stride, d, first, count, out);
        return;
    }
#endif
    size_t bytes = half ? 2 : 4;
    for (int64_t h = 0; h < heads; h++) {
        const float *ph = p + h * p_stride;
        float *oh = out + h * d;
        for (int64_t i = 0; i < d; i++) oh[i] = 0;
        for (int64_t j = first; j < count; j++) {
            const uint8_t *row = (const uint8_t *)v + (size_t)(j * stride) * bytes;
            for (int64_t i = 0; i < d; i++)
                oh[i] = fmaf(ph[j], half ? half_to_float(((const uint16_t *)row)[i]) : ((const float *)row)[i], oh[i]);
        }
    }
}
