// Row sizes, vec-dot types and whole-row dequantization (F16 through F16C where the CPU has it).
#include "internal.h"

size_t assay_row_bytes(int type, int64_t k) {
    int size = block_size(type);
    if (size == 0 || k % size != 0) return 0;
    return (size_t)(k / size) * (size_t)block_bytes(type);
}

int assay_vec_dot_type(int type) {
    switch (type) {
    case Q4_0: case Q5_0: case Q8_0: return Q8_0;
    case Q4_1: case Q5_1: return Q8_1;
    case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: return Q8_K;
    default: return -1;
    }
}


#if ASSAY_X86
// F16 rows through F16C, eight at a time (the same floats as half_to_float for every non-NaN
// half; a signalling NaN comes back quiet, so rows holding NaN take the scalar path).
__attribute__((target("avx2,f16c"))) static int dequantize_f16_f16c(const uint16_t *h, float *y, int64_t k) {
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m128i bits = _mm_loadu_si128((const __m128i *)(h + j));
        // Exponent all ones: infinity or NaN; leave the row to the scalar path when any is NaN.
        __m128i exponent = _mm_and_si128(bits, _mm_set1_epi16(0x7C00)), mantissa = _mm_and_si128(bits, _mm_set1_epi16(0x03FF));
        __m128i nan = _mm_andnot_si128(_mm_cmpeq_epi16(mantissa, _mm_setzero_si128()), _mm_cmpeq_epi16(exponent, _mm_set1_epi16(0x7C00)));
        if (!_mm_testz_si128(nan, nan)) return 0;
        _mm256_storeu_ps(y + j, _mm256_cvtph_ps(bits));
    }
    for (; j < k; j++) y[j] = half_to_float(load_u16((const uint8_t *)(h + j)));
    return 1;
}
#endif

int assay_dequantize_row(int type, const void *w, float *y, int64_t k) {
    int size = block_size(type), bytes = block_bytes(type);
    if (size == 0 || type == Q8_1 || k % size != 0) return 0;
    const uint8_t *b = (const uint8_t *)w;
    if (type == F32) {
        memcpy(y, b, (size_t)k * 4);
        return 1;
    }
    if (type == BF16) {
        for (int64_t j = 0; j < k; j++) {
            uint32_t bits = (uint32_t)load_u16(b + 2 * j) << 16;
            memcpy(y + j, &bits, 4);
        }
        return 1;
    }
#if ASSAY_X86
    if (type == F16 && assay_simd_level() >= 1 && dequantize_f16_f16c((const uint16_t *)b, y, k)) return 1;
#endif
    if (type == F16) {
        for (int64_t j = 0; j < k; j++) y[j] = half_to_float(load_u16(b + 2 * j));
        return 1;
    }
#if ASSAY_X86
    if (assay_simd_level() >= 1 && assay_dequantize_row_avx2(type, b, y, k)) return 1;
#endif
    for (int64_t i = 0; i < k / size; i++) dequantize_block(type, b + i * bytes, y + i * size);
    return 1;
}

int assay_fast_dequantize(int type) {
    if (type == BF16) return 1;  // a shift
#if ASSAY_X86
    return assay_simd_level() >= 1 && (type == F16 || type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q8_0 || type == Q2_K ||
                                       type == Q3_K || type == Q4_K || type == Q5_K || type == Q6_K);
#else
    return 0;
#endif
}
