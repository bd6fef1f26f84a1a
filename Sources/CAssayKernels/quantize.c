// Activations quantized to q8_0, q8_1 and q8_K blocks as ggml's x86 build writes them.
#include "internal.h"

// MARK: - Activation quantization (ggml's x86 build: 127/amax scaling, ties to even)

static void quantize_q8_0(const float *x, uint8_t *y, int64_t k, int with_sum) {
    int bytes = with_sum ? 36 : 34, offset = with_sum ? 4 : 2;
    for (int64_t i = 0; i < k / 32; i++) {
        const float *v = x + i * 32;
        uint8_t *block = y + i * bytes;
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(v[j]));
        float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.f;
        uint16_t dh = float_to_half(d);
        memcpy(block, &dh, 2);
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            int q = (int)nearbyintf(v[j] * id);
            block[offset + j] = (uint8_t)(int8_t)q;
            sum += q;
        }
        if (with_sum) {
            uint16_t s = float_to_half(d * (float)sum);
            memcpy(block + 2, &s, 2);
        }
    }
}

static void quantize_q8_K(const float *x, uint8_t *y, int64_t k) {
    for (int64_t i = 0; i < k / 256; i++) {
        const float *v = x + i * 256;
        uint8_t *block = y + i * ASSAY_Q8_K_BYTES;
        float maximum = 0, amax = 0;
        for (int j = 0; j < 256; j++) {
            if (fabsf(v[j]) > amax) { amax = fabsf(v[j]); maximum = v[j]; }
        }
        int8_t *qs = (int8_t *)(block + 4);
        int16_t sums[16];
        if (amax == 0) {
            float zero = 0;
            memcpy(block, &zero, 4);
            memset(qs, 0, 256);
            memset(block + 260, 0, 32);
            continue;
        }
        float iscale = -127.f / maximum;
        for (int j = 0; j < 256; j++) {
            int q = nearest_int(iscale * v[j]);
            qs[j] = (int8_t)(q < 127 ? q : 127);
        }
        for (int g = 0; g < 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += qs[g * 16 + j];
            sums[g] = (int16_t)s;
        }
        float d = 1 / iscale;
        memcpy(block, &d, 4);
        memcpy(block + 260, sums, 32);
    }
}

// MARK: - AVX2 (the same bytes)

#if ASSAY_X86
// The low byte of each of 8 int32 (what the scalar (uint8_t) casts keep), stored at `out`.
ASSAY_AVX2 static inline void store_low_bytes(__m256i q, uint8_t *out) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    __m256i bytes = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, pick), _mm256_setr_epi32(0, 4, 0, 0, 0, 0, 0, 0));
    _mm_storel_epi64((__m128i *)out, _mm256_castsi256_si128(bytes));
}

ASSAY_AVX2 static inline float max_abs(const float *v, int n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 m = _mm256_setzero_ps();
    // max_ps returns its second operand when either is NaN: NaN values are skipped, as fmaxf does.
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(v + j)), m);
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

ASSAY_AVX2 static void quantize_q8_0_avx2(const float *x, uint8_t *y, int64_t k, int with_sum) {
    int bytes = with_sum ? 36 : 34, offset = with_sum ? 4 : 2;
    for (int64_t i = 0; i < k / 32; i++) {
        const float *v = x + i * 32;
        uint8_t *block = y + i * bytes;
        float amax = max_abs(v, 32);
        float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.f;
        uint16_t dh = float_to_half(d);
        memcpy(block, &dh, 2);
        // (int)nearbyintf(v · id): cvtps rounds to nearest even, and gives INT_MIN for NaN as the scalar conversion does.
        __m256 scale = _mm256_set1_ps(id);
        __m256i q[4];
        for (int t = 0; t < 4; t++) {
            q[t] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(v + 8 * t), scale));
            store_low_bytes(q[t], block + offset + 8 * t);
        }
        if (with_sum) {
            __m256i s = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
            uint16_t sh = float_to_half(d * (float)_mm_cvtsi128_si32(h));
            memcpy(block + 2, &sh, 2);
        }
    }
}

ASSAY_AVX2 static void quantize_q8_K_avx2(const float *x, uint8_t *y, int64_t k) {
    for (int64_t i = 0; i < k / 256; i++) {
        const float *v = x + i * 256;
        uint8_t *block = y + i * ASSAY_Q8_K_BYTES;
        float amax = max_abs(v, 256);
        if (amax == 0) {
            memset(block, 0, ASSAY_Q8_K_BYTES);
            continue;
        }
        // The scalar loop keeps the first value whose magnitude is the largest.
        int at = 0;
        while (fabsf(v[at]) != amax) at++;
        float iscale = -127.f / v[at];
        // nearest_int as the scalar loop computes it (the 1.5·2^23 addition), then at most 127.
        const __m256 scale = _mm256_set1_ps(iscale), magic = _mm256_set1_ps(12582912.f);
        const __m256i mantissa = _mm256_set1_epi32(0x007FFFFF), half = _mm256_set1_epi32(0x00400000), top = _mm256_set1_epi32(127);
        int16_t sums[16];
        for (int g = 0; g < 16; g++) {
            __m256i q[2];
            for (int t = 0; t < 2; t++) {
                __m256 shifted = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + 16 * g + 8 * t), scale), magic);
                q[t] = _mm256_min_epi32(_mm256_sub_epi32(_mm256_and_si256(_mm256_castps_si256(shifted), mantissa), half), top);
                store_low_bytes(q[t], block + 4 + 16 * g + 8 * t);
            }
            // Σ of the 16 stored (int8) values: the low bytes sign-extended.
            __m256i s = _mm256_add_epi32(_mm256_srai_epi32(_mm256_slli_epi32(q[0], 24), 24), _mm256_srai_epi32(_mm256_slli_epi32(q[1], 24), 24));
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
            sums[g] = (int16_t)_mm_cvtsi128_si32(h);
        }
        float d = 1 / iscale;
        memcpy(block, &d, 4);
        memcpy(block + 260, sums, 32);
    }
}
#endif

void assay_quantize_row(int activation_type, const float *x, void *y, int64_t k) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        if (activation_type == Q8_0 || activation_type == Q8_1) {
            quantize_q8_0_avx2(x, (uint8_t *)y, k, activation_type == Q8_1);
            return;
        }
        if (activation_type == Q8_K) {
            quantize_q8_K_avx2(x, (uint8_t *)y, k);
            return;
        }
    }
#endif
    switch (activation_type) {
    case Q8_0: quantize_q8_0(x, (uint8_t *)y, k, 0); break;
    case Q8_1: quantize_q8_0(x, (uint8_t *)y, k, 1); break;
    case Q8_K: quantize_q8_K(x, (uint8_t *)y, k); break;
    default: break;
    }
}
