// One query row's attention against the KV cache read in place (decode): the scores q·k and the
// weighted sum of the values, an f16 cache's halves converted as they are read. Converting a
// layer's whole f16 cache to f32 for every token had cost more than the attention itself once the
// context held a few hundred positions (a fresh f32 copy of every layer's keys and values per
// token, on the caller's thread alone), and an f32 cache took two OpenBLAS calls per head. Both
// cache types sum in the same order, so with values that are halves already (`ggml` numerics)
// they give the same bits.
#include "avx2.h"
#include "assay_kernels.h"

#if ASSAY_X86
AVX2 static float dot_f16_avx2(const float *q, const uint16_t *k, int64_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= d; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i + 8))), a1);
    }
    for (; i + 8 <= d; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(k + i))), a0);
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += q[i] * _cvtsh_ss(k[i]);
    return s;
}

AVX2 static float dot_f32_avx2(const float *q, const float *k, int64_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= d; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(k + i + 8), a1);
    }
    for (; i + 8 <= d; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), a0);
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += q[i] * k[i];
    return s;
}

AVX2 static void add_scaled_f16_avx2(float p, const uint16_t *v, float *out, int64_t d) {
    __m256 w = _mm256_set1_ps(p);
    int64_t i = 0;
    for (; i + 8 <= d; i += 8)
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(w, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(v + i))), _mm256_loadu_ps(out + i)));
    for (; i < d; i++) out[i] = fmaf(p, _cvtsh_ss(v[i]), out[i]);
}

AVX2 static void add_scaled_f32_avx2(float p, const float *v, float *out, int64_t d) {
    __m256 w = _mm256_set1_ps(p);
    int64_t i = 0;
    for (; i + 8 <= d; i += 8) _mm256_storeu_ps(out + i, _mm256_fmadd_ps(w, _mm256_loadu_ps(v + i), _mm256_loadu_ps(out + i)));
    for (; i < d; i++) out[i] = fmaf(p, v[i], out[i]);
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


void assay_attention_scores(const float *q, const void *k, int half, int64_t stride, int64_t d, int64_t first, int64_t count, float scale,
                            float *scores) {
    size_t bytes = half ? 2 : 4;
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        for (int64_t j = first; j < count; j++) {
            const void *row = (const uint8_t *)k + (size_t)(j * stride) * bytes;
            scores[j] = scale * (half ? dot_f16_avx2(q, row, d) : dot_f32_avx2(q, row, d));
        }
        return;
    }
#endif
    for (int64_t j = first; j < count; j++) scores[j] = scale * dot_portable(q, (const uint8_t *)k + (size_t)(j * stride) * bytes, half, d);
}

void assay_attention_values(const float *p, const void *v, int half, int64_t stride, int64_t d, int64_t first, int64_t count, float *out) {
    size_t bytes = half ? 2 : 4;
    for (int64_t i = 0; i < d; i++) out[i] = 0;
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        for (int64_t j = first; j < count; j++) {
            const void *row = (const uint8_t *)v + (size_t)(j * stride) * bytes;
            if (half) add_scaled_f16_avx2(p[j], row, out, d);
            else add_scaled_f32_avx2(p[j], row, out, d);
        }
        return;
    }
#endif
    for (int64_t j = first; j < count; j++) {
        const uint8_t *row = (const uint8_t *)v + (size_t)(j * stride) * bytes;
        for (int64_t i = 0; i < d; i++)
            out[i] = fmaf(p[j], half ? half_to_float(((const uint16_t *)row)[i]) : ((const float *)row)[i], out[i]);
    }
}
