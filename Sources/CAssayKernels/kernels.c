// Decode kernels over ggml block formats: activation quantization, dequantization and
// matrix-vector products, portable C with AVX2+FMA+F16C versions chosen at run time.
//
// Built with -ffp-contract=off: dequantized values must equal AssayTensor's Dequantizer bit for
// bit (products and sums rounded separately, as gguf-py computes them); fused multiply-adds
// appear only where written (the dot-product accumulators).
#include "assay_kernels.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define ASSAY_X86 1
#else
#define ASSAY_X86 0
#endif

enum {
    F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
    Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, BF16 = 30,
};

// MARK: - Scalars

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exponent = (h >> 10) & 0x1F, mantissa = h & 0x03FF, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {
            uint32_t e = 113;
            while (!(mantissa & 0x0400)) { mantissa <<= 1; e -= 1; }
            bits = sign | (e << 23) | ((mantissa & 0x03FF) << 13);
        }
    } else if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// Float → half, rounding to nearest even (what ggml's GGML_FP32_TO_FP16 does on x86 with F16C).
static inline uint16_t float_to_half(float f) {
    _Float16 h = (_Float16)f;
    uint16_t bits;
    memcpy(&bits, &h, 2);
    return bits;
}

static inline uint16_t load_u16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline uint32_t load_u32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline float load_half(const uint8_t *p) { return half_to_float(load_u16(p)); }

// ggml's nearest_int: round to nearest, ties to even, for |x| < 2^22.
static inline int nearest_int(float x) {
    float v = x + 12582912.f;
    int32_t i;
    memcpy(&i, &v, 4);
    return (i & 0x007FFFFF) - 0x00400000;
}

// MARK: - Sizes and types

static int block_size(int type) {
    switch (type) {
    case F32: case F16: case BF16: return 1;
    case Q4_0: case Q4_1: case Q5_0: case Q5_1: case Q8_0: case Q8_1: return 32;
    case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: case Q8_K: return 256;
    default: return 0;
    }
}

static int block_bytes(int type) {
    switch (type) {
    case F32: return 4;
    case F16: case BF16: return 2;
    case Q4_0: return 18;
    case Q4_1: return 20;
    case Q5_0: return 22;
    case Q5_1: return 24;
    case Q8_0: return 34;
    case Q8_1: return 36;
    case Q2_K: return 84;
    case Q3_K: return 110;
    case Q4_K: return 144;
    case Q5_K: return 176;
    case Q6_K: return 210;
    case Q8_K: return ASSAY_Q8_K_BYTES;
    default: return 0;
    }
}

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

// MARK: - Dequantization (one block; bit-identical to Dequantizer.swift)

static inline void scale_min_k4(const uint8_t *s, int j, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 2) & 0x30);
        *m = (s[j + 4] >> 4) | ((s[j] >> 2) & 0x30);
    }
}

static inline void q3_K_scales(const uint8_t *b, int8_t scales[16]) {
    for (int i = 0; i < 16; i++) {
        uint8_t low = i < 8 ? (b[96 + i] & 0x0F) : (b[96 + i - 8] >> 4);
        uint8_t high = (b[96 + 8 + i % 4] >> (2 * (i / 4))) & 0x03;
        scales[i] = (int8_t)((int)(low | high << 4) - 32);
    }
}

static inline void dequantize_block(int type, const uint8_t *b, float *y) {
    switch (type) {
    case F32: memcpy(y, b, 4); break;
    case F16: y[0] = half_to_float(load_u16(b)); break;
    case BF16: { uint32_t bits = (uint32_t)load_u16(b) << 16; memcpy(y, &bits, 4); break; }
    case Q4_0: {
        float d = load_half(b);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)((b[2 + j] & 0x0F) - 8);
            y[j + 16] = d * (float)((b[2 + j] >> 4) - 8);
        }
        break;
    }
    case Q4_1: {
        float d = load_half(b), m = load_half(b + 2);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)(b[4 + j] & 0x0F) + m;
            y[j + 16] = d * (float)(b[4 + j] >> 4) + m;
        }
        break;
    }
    case Q5_0: {
        float d = load_half(b);
        uint32_t qh = load_u32(b + 2);
        for (int j = 0; j < 16; j++) {
            int lo = (b[6 + j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            int hi = (b[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (float)(lo - 16);
            y[j + 16] = d * (float)(hi - 16);
        }
        break;
    }
    case Q5_1: {
        float d = load_half(b), m = load_half(b + 2);
        uint32_t qh = load_u32(b + 4);
        for (int j = 0; j < 16; j++) {
            uint32_t lo = (b[8 + j] & 0x0F) | ((qh >> j) & 1) << 4;
            uint32_t hi = (b[8 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4;
            y[j] = d * (float)lo + m;
            y[j + 16] = d * (float)hi + m;
        }
        break;
    }
    case Q8_0: {
        float d = load_half(b);
        for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)b[2 + j] * d;
        break;
    }
    case Q2_K: {
        float d = load_half(b + 80), dmin = load_half(b + 82);
        for (int e = 0; e < 256; e++) {
            uint8_t sc = b[e / 16];
            float dl = d * (float)(sc & 0x0F), ml = dmin * (float)(sc >> 4);
            int bit = e / 32, l = e % 32;
            int q = (b[16 + (bit / 4) * 32 + l] >> (2 * (bit % 4))) & 3;
            y[e] = dl * (float)q - ml;
        }
        break;
    }
    case Q3_K: {
        float d = load_half(b + 108);
        int8_t scales[16];
        q3_K_scales(b, scales);
        for (int e = 0; e < 256; e++) {
            int bit = e / 32, l = e % 32;
            int low = (b[32 + (bit / 4) * 32 + l] >> (2 * (bit % 4))) & 3;
            int h = (b[l] >> bit) & 1;
            int q = low - ((h ^ 1) << 2);
            y[e] = (d * (float)scales[e / 16]) * (float)q;
        }
        break;
    }
    case Q4_K: {
        float d = load_half(b), dmin = load_half(b + 2);
        for (int group = 0; group < 8; group++) {
            uint8_t sc, m;
            scale_min_k4(b + 4, group, &sc, &m);
            float scale = d * (float)sc, minimum = dmin * (float)m;
            const uint8_t *q = b + 16 + (group / 2) * 32;
            int shift = 4 * (group % 2);
            for (int l = 0; l < 32; l++) y[group * 32 + l] = scale * (float)((q[l] >> shift) & 0x0F) - minimum;
        }
        break;
    }
    case Q5_K: {
        float d = load_half(b), dmin = load_half(b + 2);
        for (int group = 0; group < 8; group++) {
            uint8_t sc, m;
            scale_min_k4(b + 4, group, &sc, &m);
            float scale = d * (float)sc, minimum = dmin * (float)m;
            const uint8_t *q = b + 48 + (group / 2) * 32;
            int shift = 4 * (group % 2);
            for (int l = 0; l < 32; l++) {
                int value = ((q[l] >> shift) & 0x0F) | ((b[16 + l] >> group) & 1) << 4;
                y[group * 32 + l] = scale * (float)value - minimum;
            }
        }
        break;
    }
    case Q6_K: {
        // Per 128 values: ql holds 64 bytes of low nibbles, qh 32 bytes of 2-bit pairs; written
        // as loops over 32 lanes so the compiler vectorizes them (same products, same order).
        float d = load_half(b + 208);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = b + half * 64, *qh = b + 128 + half * 32;
            const int8_t *sc = (const int8_t *)(b + 192 + half * 8);
            float *out = y + half * 128;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((ql[l] & 0x0F) | ((qh[l] & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                out[l] = (d * (float)sc[is]) * (float)q1;
                out[l + 32] = (d * (float)sc[is + 2]) * (float)q2;
                out[l + 64] = (d * (float)sc[is + 4]) * (float)q3;
                out[l + 96] = (d * (float)sc[is + 6]) * (float)q4;
            }
        }
        break;
    }
    case Q8_K: {
        float d;
        memcpy(&d, b, 4);
        for (int e = 0; e < 256; e++) y[e] = d * (float)(int8_t)b[4 + e];
        break;
    }
    default: break;
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
    for (int64_t i = 0; i < k / size; i++) dequantize_block(type, b + i * bytes, y + i * size);
    return 1;
}

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

void assay_quantize_row(int activation_type, const float *x, void *y, int64_t k) {
    switch (activation_type) {
    case Q8_0: quantize_q8_0(x, (uint8_t *)y, k, 0); break;
    case Q8_1: quantize_q8_0(x, (uint8_t *)y, k, 1); break;
    case Q8_K: quantize_q8_K(x, (uint8_t *)y, k); break;
    default: break;
    }
}

// MARK: - Portable quantized dot products (ggml's formulas: integer sums per block, then scales)

static inline float dot_q4_0(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 18, a += 34) {
        const int8_t *q = (const int8_t *)(a + 2);
        int isum = 0;
        for (int j = 0; j < 16; j++) isum += ((w[2 + j] & 0x0F) - 8) * q[j] + ((w[2 + j] >> 4) - 8) * q[j + 16];
        sum += load_half(w) * load_half(a) * (float)isum;
    }
    return sum;
}

static inline float dot_q4_1(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 20, a += 36) {
        const int8_t *q = (const int8_t *)(a + 4);
        int isum = 0;
        for (int j = 0; j < 16; j++) isum += (w[4 + j] & 0x0F) * q[j] + (w[4 + j] >> 4) * q[j + 16];
        sum += load_half(w) * load_half(a) * (float)isum + load_half(w + 2) * load_half(a + 2);
    }
    return sum;
}

static inline float dot_q5_0(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 22, a += 34) {
        const int8_t *q = (const int8_t *)(a + 2);
        uint32_t qh = load_u32(w + 2);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = ((w[6 + j] & 0x0F) | (int)((qh >> j) & 1) << 4) - 16;
            int hi = ((w[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - 16;
            isum += lo * q[j] + hi * q[j + 16];
        }
        sum += load_half(w) * load_half(a) * (float)isum;
    }
    return sum;
}

static inline float dot_q5_1(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 24, a += 36) {
        const int8_t *q = (const int8_t *)(a + 4);
        uint32_t qh = load_u32(w + 4);
        int isum = 0;
        for (int j = 0; j < 16; j++) {
            int lo = (w[8 + j] & 0x0F) | (int)((qh >> j) & 1) << 4;
            int hi = (w[8 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            isum += lo * q[j] + hi * q[j + 16];
        }
        sum += load_half(w) * load_half(a) * (float)isum + load_half(w + 2) * load_half(a + 2);
    }
    return sum;
}

static inline float dot_q8_0(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 34, a += 34) {
        const int8_t *x = (const int8_t *)(w + 2), *q = (const int8_t *)(a + 2);
        int isum = 0;
        for (int j = 0; j < 32; j++) isum += x[j] * q[j];
        sum += load_half(w) * load_half(a) * (float)isum;
    }
    return sum;
}

static inline float q8_K_scale(const uint8_t *a) { float d; memcpy(&d, a, 4); return d; }
static inline const int8_t *q8_K_values(const uint8_t *a) { return (const int8_t *)(a + 4); }
static inline int q8_K_sum(const uint8_t *a, int g) { int16_t s; memcpy(&s, a + 260 + 2 * g, 2); return s; }

static inline float dot_q2_K(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 84, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        int scaled = 0, mins = 0;
        for (int g = 0; g < 16; g++) {
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int e = g * 16 + j, bit = e / 32, l = e % 32;
                isum += ((w[16 + (bit / 4) * 32 + l] >> (2 * (bit % 4))) & 3) * q[e];
            }
            scaled += (w[g] & 0x0F) * isum;
            mins += (w[g] >> 4) * q8_K_sum(a, g);
        }
        float da = q8_K_scale(a);
        sum += da * load_half(w + 80) * (float)scaled - da * load_half(w + 82) * (float)mins;
    }
    return sum;
}

static inline float dot_q3_K(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 110, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        int8_t scales[16];
        q3_K_scales(w, scales);
        int scaled = 0;
        for (int g = 0; g < 16; g++) {
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int e = g * 16 + j, bit = e / 32, l = e % 32;
                int low = (w[32 + (bit / 4) * 32 + l] >> (2 * (bit % 4))) & 3;
                int h = (w[l] >> bit) & 1;
                isum += (low - ((h ^ 1) << 2)) * q[e];
            }
            scaled += scales[g] * isum;
        }
        sum += q8_K_scale(a) * load_half(w + 108) * (float)scaled;
    }
    return sum;
}

static inline float dot_q4_K(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 144, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        int scaled = 0, mins = 0;
        for (int g = 0; g < 8; g++) {
            uint8_t sc, m;
            scale_min_k4(w + 4, g, &sc, &m);
            const uint8_t *x = w + 16 + (g / 2) * 32;
            int shift = 4 * (g % 2), isum = 0;
            for (int l = 0; l < 32; l++) isum += ((x[l] >> shift) & 0x0F) * q[g * 32 + l];
            scaled += sc * isum;
            mins += m * (q8_K_sum(a, 2 * g) + q8_K_sum(a, 2 * g + 1));
        }
        float da = q8_K_scale(a);
        sum += da * load_half(w) * (float)scaled - da * load_half(w + 2) * (float)mins;
    }
    return sum;
}

static inline float dot_q5_K(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 176, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        int scaled = 0, mins = 0;
        for (int g = 0; g < 8; g++) {
            uint8_t sc, m;
            scale_min_k4(w + 4, g, &sc, &m);
            const uint8_t *x = w + 48 + (g / 2) * 32;
            int shift = 4 * (g % 2), isum = 0;
            for (int l = 0; l < 32; l++) isum += (((x[l] >> shift) & 0x0F) | ((w[16 + l] >> g) & 1) << 4) * q[g * 32 + l];
            scaled += sc * isum;
            mins += m * (q8_K_sum(a, 2 * g) + q8_K_sum(a, 2 * g + 1));
        }
        float da = q8_K_scale(a);
        sum += da * load_half(w) * (float)scaled - da * load_half(w + 2) * (float)mins;
    }
    return sum;
}

static inline float dot_q6_K(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 210, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        int scaled = 0;
        for (int g = 0; g < 16; g++) {
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int e = g * 16 + j, half = e / 128, r = e % 128;
                int low = (w[half * 64 + r % 64] >> (4 * (r / 64))) & 0x0F;
                int high = (w[128 + half * 32 + r % 32] >> (2 * (r / 32))) & 0x03;
                isum += ((low | high << 4) - 32) * q[e];
            }
            scaled += (int8_t)w[192 + g] * isum;
        }
        sum += q8_K_scale(a) * load_half(w + 208) * (float)scaled;
    }
    return sum;
}

static inline float dot_quantized(int type, const uint8_t *w, const uint8_t *a, int64_t k) {
    switch (type) {
    case Q4_0: return dot_q4_0(w, a, k / 32);
    case Q4_1: return dot_q4_1(w, a, k / 32);
    case Q5_0: return dot_q5_0(w, a, k / 32);
    case Q5_1: return dot_q5_1(w, a, k / 32);
    case Q8_0: return dot_q8_0(w, a, k / 32);
    case Q2_K: return dot_q2_K(w, a, k / 256);
    case Q3_K: return dot_q3_K(w, a, k / 256);
    case Q4_K: return dot_q4_K(w, a, k / 256);
    case Q5_K: return dot_q5_K(w, a, k / 256);
    case Q6_K: return dot_q6_K(w, a, k / 256);
    default: return 0;
    }
}

// f32 activations against dequantized weights: a block at a time through a small buffer.
static inline float dot_exact(int type, const uint8_t *w, const float *x, int64_t k) {
    if (type == F32) {
        const float *v = (const float *)w;
        float sum = 0;
        for (int64_t j = 0; j < k; j++) sum = fmaf(v[j], x[j], sum);
        return sum;
    }
    int size = block_size(type), bytes = block_bytes(type);
    int chunk = size == 1 ? 256 : size;
    float buffer[256], sum = 0;
    for (int64_t start = 0; start < k; start += chunk) {
        int n = (int)(k - start < chunk ? k - start : chunk);
        if (size == 1) {
            for (int j = 0; j < n; j++) dequantize_block(type, w + (start + j) * bytes, buffer + j);
        } else {
            dequantize_block(type, w + (start / size) * bytes, buffer);
        }
        for (int j = 0; j < n; j++) sum = fmaf(buffer[j], x[start + j], sum);
    }
    return sum;
}

static void gemv_portable(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, const uint8_t *xq, float *y,
                          int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        y[r - r0] = xq ? dot_quantized(type, row, xq, k) : dot_exact(type, row, x, k);
    }
}

// MARK: - AVX2 + FMA + F16C

#if ASSAY_X86
#define AVX2 __attribute__((target("avx2,fma,f16c")))

// The half at p through F16C (exact for every finite half, as half_to_float).
AVX2 static inline float half_f16c(const uint8_t *p) { return _cvtsh_ss(load_u16(p)); }

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 32 nibbles of 16 bytes: low nibbles are values 0–15, high nibbles values 16–31 (ggml's order).
AVX2 static inline __m256i nibbles(const uint8_t *p) {
    __m128i bytes = _mm_loadu_si128((const __m128i *)p);
    __m256i both = _mm256_set_m128i(_mm_srli_epi16(bytes, 4), bytes);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

// Σ x·y of 32 unsigned × signed bytes as 8 float lanes (|sum| ≤ 2^18: exact).
AVX2 static inline __m256 dot_u8_i8(__m256i x, __m256i y) {
    __m256i pairs = _mm256_maddubs_epi16(x, y);
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
}

// Σ x·y of 32 signed × signed bytes (maddubs needs its first operand unsigned: |x| and y·sign(x)).
AVX2 static inline __m256 dot_i8_i8(__m256i x, __m256i y) {
    return dot_u8_i8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

// The 32-value formats below take the activations' block scales already as floats (`ad`, and
// for q8_1 the block sums `as`), converted once per product instead of once per row, and run two
// blocks per step on two accumulators so the FMA latency chain is split.

AVX2 static float dot_q4_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 36, a += 68) {
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
    float offset0 = 0, offset1 = 0;
    for (int64_t i = 0; i < blocks; i++, w0 += 18, w1 += 18, a += 34) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 2));
        float d0 = half_f16c(w0), d1 = half_f16c(w1);
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(d0 * ad[i]), dot_u8_i8(nibbles(w0 + 2), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(d1 * ad[i]), dot_u8_i8(nibbles(w1 + 2), y), acc1);
        offset0 += d0 * ys[i];
        offset1 += d1 * ys[i];
    }
    out[0] = hsum(acc0) - 8 * offset0;
    out[1] = hsum(acc1) - 8 * offset1;
}

AVX2 static void dot2_q4_1_avx2(const uint8_t *w0, const uint8_t *w1, const uint8_t *a, const float *ad, const float *as, int64_t blocks,
                                float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float mins0 = 0, mins1 = 0;
    for (int64_t i = 0; i < blocks; i++, w0 += 20, w1 += 20, a += 36) {
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 4));
        __m128 dm0 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w0))), dm1 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w1)));
        acc0 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm0) * ad[i]), dot_u8_i8(nibbles(w0 + 4), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_set1_ps(_mm_cvtss_f32(dm1) * ad[i]), dot_u8_i8(nibbles(w1 + 4), y), acc1);
        mins0 += _mm_cvtss_f32(_mm_movehdup_ps(dm0)) * as[i];
        mins1 += _mm_cvtss_f32(_mm_movehdup_ps(dm1)) * as[i];
    }
    out[0] = hsum(acc0) + mins0;
    out[1] = hsum(acc1) + mins1;
}

AVX2 static float dot_q8_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 68, a += 68) {
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

// Q4_K: 8 groups of 32 four-bit values with 6-bit scales and mins; the integer sums per group
// come from maddubs, the mins from the activations' block sums.
AVX2 static float dot_q4_K_avx2(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 144, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        __m256i scaled = _mm256_setzero_si256();
        int mins = 0;
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 16 + pair * 32));
            __m256i low = _mm256_and_si256(bytes, _mm256_set1_epi8(0x0F));
            __m256i high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), _mm256_set1_epi8(0x0F));
            uint8_t sc0, m0, sc1, m1;
            scale_min_k4(w + 4, 2 * pair, &sc0, &m0);
            scale_min_k4(w + 4, 2 * pair + 1, &sc1, &m1);
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)(q + pair * 64))),
                                           _mm256_set1_epi16(sc0));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(q + pair * 64 + 32))),
                                           _mm256_set1_epi16(sc1));
            scaled = _mm256_add_epi32(scaled, _mm256_add_epi32(p0, p1));
            mins += m0 * (q8_K_sum(a, 4 * pair) + q8_K_sum(a, 4 * pair + 1)) + m1 * (q8_K_sum(a, 4 * pair + 2) + q8_K_sum(a, 4 * pair + 3));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(scaled), _mm256_extracti128_si256(scaled, 1));
        s = _mm_hadd_epi32(s, s);
        s = _mm_hadd_epi32(s, s);
        float da = q8_K_scale(a);
        sum += da * half_f16c(w) * (float)_mm_cvtsi128_si32(s) - da * half_f16c(w + 2) * (float)mins;
    }
    return sum;
}

// Q6_K: 16 groups of 16 six-bit values (stored +32) with int8 scales. Σ (q − 32)·y is computed
// as Σ q·y − 32·Σ y, the latter from the activations' block sums.
AVX2 static float dot_q6_K_avx2(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 210, a += ASSAY_Q8_K_BYTES) {
        const int8_t *q = q8_K_values(a);
        const int8_t *scales = (const int8_t *)(w + 192);
        __m256i scaled = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + half * 64, *qh = w + 128 + half * 32;
            __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i mask = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03);
            // Values r = 0..127 of this half in four runs of 32: r/32 picks the nibble and the 2-bit field.
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, mask), _mm256_slli_epi16(_mm256_and_si256(h, two), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two), 4));
            for (int run = 0; run < 4; run++) {
                int e = half * 128 + run * 32;
                __m256i y = _mm256_loadu_si256((const __m256i *)(q + e));
                __m256i pairs = _mm256_maddubs_epi16(v[run], y);  // 16 sums of 2, values 0..63: no saturation
                // Two groups of 16 per run: scale each 128-bit half by its group's scale.
                __m256i scale = _mm256_set_m128i(_mm_set1_epi16(scales[e / 16 + 1]), _mm_set1_epi16(scales[e / 16]));
                scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(pairs, scale));
            }
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(scaled), _mm256_extracti128_si256(scaled, 1));
        s = _mm_hadd_epi32(s, s);
        s = _mm_hadd_epi32(s, s);
        int offset = 0;
        for (int g = 0; g < 16; g++) offset += scales[g] * q8_K_sum(a, g);
        sum += q8_K_scale(a) * half_f16c(w + 208) * (float)(_mm_cvtsi128_si32(s) - 32 * offset);
    }
    return sum;
}

AVX2 static float dot_exact_avx2(int type, const uint8_t *w, const float *x, int64_t k) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t j = 0;
    if (type == F32 || type == F16) {
        for (; j + 16 <= k; j += 16) {
            __m256 w0, w1;
            if (type == F32) {
                w0 = _mm256_loadu_ps((const float *)w + j);
                w1 = _mm256_loadu_ps((const float *)w + j + 8);
            } else {
                w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j)));
                w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + j + 8)));
            }
            acc0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + j), acc0);
            acc1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + j + 8), acc1);
        }
        float sum = hsum(_mm256_add_ps(acc0, acc1));
        for (; j < k; j++) {
            float value;
            if (type == F32) memcpy(&value, w + 4 * j, 4); else value = half_to_float(load_u16(w + 2 * j));
            sum = fmaf(value, x[j], sum);
        }
        return sum;
    }
    if (type == Q4_0 || type == Q4_1 || type == Q8_0) {
        int bytes = block_bytes(type);
        for (int64_t b = 0; b < k / 32; b++, w += bytes) {
            __m256 d = _mm256_set1_ps(half_f16c(w));
            __m256 v[4];
            if (type == Q8_0) {
                for (int part = 0; part < 4; part++) {
                    __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(w + 2 + 8 * part)));
                    v[part] = _mm256_mul_ps(_mm256_cvtepi32_ps(q), d);
                }
            } else {
                __m256i q = nibbles(w + (type == Q4_0 ? 2 : 4));
                if (type == Q4_0) q = _mm256_sub_epi8(q, _mm256_set1_epi8(8));
                __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
                __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
                for (int part = 0; part < 4; part++) {
                    v[part] = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(parts[part])));
                    if (type == Q4_1) v[part] = _mm256_add_ps(v[part], _mm256_set1_ps(half_f16c(w + 2)));
                }
            }
            const float *xb = x + b * 32;
            acc0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(xb), acc0);
            acc1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(xb + 8), acc1);
            acc0 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xb + 16), acc0);
            acc1 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xb + 24), acc1);
        }
        return hsum(_mm256_add_ps(acc0, acc1));
    }
    // Other types: dequantize a block into a buffer, then FMA.
    int size = block_size(type), bytes = block_bytes(type);
    int chunk = size == 1 ? 256 : size;
    float buffer[256];
    float tail = 0;
    for (int64_t start = 0; start < k; start += chunk) {
        int n = (int)(k - start < chunk ? k - start : chunk);
        if (size == 1) {
            for (int i = 0; i < n; i++) dequantize_block(type, w + (start + i) * bytes, buffer + i);
        } else {
            dequantize_block(type, w + (start / size) * bytes, buffer);
        }
        int i = 0;
        for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(buffer + i), _mm256_loadu_ps(x + start + i), acc0);
        for (; i < n; i++) tail = fmaf(buffer[i], x[start + i], tail);
    }
    return hsum(acc0) + tail;
}

// Exact products, factorized by block: Σ (d·q + m)·x = d·Σ q·x + m·Σ x, with the integer q
// converted to f32 and Σ x per 32 values (`xs`) computed once per product. The same value as
// dequantizing first up to f32 rounding (d·q is not rounded on its own), at a third of the work.

// acc + Σ q_j·x_j over 32 int8 values (q's byte j meets x[j]), as 8 lanes.
AVX2 static inline __m256 fma_bytes32(__m256i q, const float *x, __m256 acc) {
    __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(x), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(x + 8), acc);
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(x + 16), acc);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(x + 24), acc);
}

AVX2 static float exact_32(int type, const uint8_t *w, const float *x, const float *xs, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i eight = _mm256_set1_epi8(8);
    int bytes = block_bytes(type);
    for (int64_t i = 0; i < blocks; i++, w += bytes) {
        __m256i q;
        switch (type) {
        case Q4_0: q = _mm256_sub_epi8(nibbles(w + 2), eight); break;
        case Q4_1: q = nibbles(w + 4); mins += half_f16c(w + 2) * xs[i]; break;
        default: q = _mm256_loadu_si256((const __m256i *)(w + 2)); break;  // Q8_0
        }
        acc = _mm256_fmadd_ps(_mm256_set1_ps(half_f16c(w)), fma_bytes32(q, x + i * 32, _mm256_setzero_ps()), acc);
    }
    return hsum(acc) + mins;
}

AVX2 static float exact_q4_K(const uint8_t *w, const float *x, const float *xs, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    float mins = 0;
    const __m256i mask = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < blocks; i++, w += 144, x += 256, xs += 8) {
        float d = half_f16c(w), dmin = half_f16c(w + 2);
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 16 + pair * 32));
            uint8_t sc0, m0, sc1, m1;
            scale_min_k4(w + 4, 2 * pair, &sc0, &m0);
            scale_min_k4(w + 4, 2 * pair + 1, &sc1, &m1);
            __m256 g0 = fma_bytes32(_mm256_and_si256(bytes, mask), x + pair * 64, _mm256_setzero_ps());
            __m256 g1 = fma_bytes32(_mm256_and_si256(_mm256_srli_epi16(bytes, 4), mask), x + pair * 64 + 32, _mm256_setzero_ps());
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc0), g0, acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)sc1), g1, acc);
            mins += dmin * (float)m0 * xs[2 * pair] + dmin * (float)m1 * xs[2 * pair + 1];
        }
    }
    return hsum(acc) - mins;
}

AVX2 static float exact_q6_K(const uint8_t *w, const float *x, int64_t blocks) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i mask = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03), offset = _mm256_set1_epi8(32);
    for (int64_t i = 0; i < blocks; i++, w += 210, x += 256) {
        float d = half_f16c(w + 208);
        const int8_t *scales = (const int8_t *)(w + 192);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = w + half * 64, *qh = w + 128 + half * 32;
            __m256i h = _mm256_loadu_si256((const __m256i *)qh);
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i v[4];
            v[0] = _mm256_or_si256(_mm256_and_si256(l0, mask), _mm256_slli_epi16(_mm256_and_si256(h, two), 4));
            v[1] = _mm256_or_si256(_mm256_and_si256(l1, mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two), 4));
            v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two), 4));
            v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two), 4));
            for (int run = 0; run < 4; run++) {
                int e = half * 128 + run * 32;
                __m256i q = _mm256_sub_epi8(v[run], offset);
                __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
                // Two groups of 16, each with its own scale.
                __m256 g0 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), _mm256_loadu_ps(x + e));
                g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), _mm256_loadu_ps(x + e + 8), g0);
                __m256 g1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), _mm256_loadu_ps(x + e + 16));
                g1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), _mm256_loadu_ps(x + e + 24), g1);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)scales[e / 16]), g0, acc);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(d * (float)scales[e / 16 + 1]), g1, acc);
            }
        }
    }
    return hsum(acc);
}

// Most 32-value activation blocks whose scales are converted ahead (k ≤ 262,144); longer rows
// take the portable products.
#define SCALED_BLOCKS 8192

AVX2 static void gemv_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, const uint8_t *xq, float *y,
                           int64_t r0, int64_t r1) {
    float ad[SCALED_BLOCKS], as[SCALED_BLOCKS];
    int scaled = xq && (type == Q4_0 || type == Q4_1 || type == Q8_0) && k / 32 <= SCALED_BLOCKS;
    // Exact products: Σ x per 32 values, for the factorized kernels.
    int summed = !xq && (type == Q4_0 || type == Q4_1 || type == Q8_0 || type == Q4_K || type == Q6_K) && k / 32 <= SCALED_BLOCKS;
    if (summed) {
        for (int64_t i = 0; i < k / 32; i++) {
            __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x + 32 * i), _mm256_loadu_ps(x + 32 * i + 8)),
                                     _mm256_add_ps(_mm256_loadu_ps(x + 32 * i + 16), _mm256_loadu_ps(x + 32 * i + 24)));
            as[i] = hsum(v);
        }
    }
    if (scaled) {
        int bytes = type == Q4_1 ? 36 : 34;
        for (int64_t i = 0; i < k / 32; i++) {
            ad[i] = half_f16c(xq + i * bytes);
            if (type == Q4_1) as[i] = half_f16c(xq + i * bytes + 2);
            if (type == Q4_0) {
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
        if (!xq) {
            switch (summed ? type : -1) {
            case Q4_0: case Q4_1: case Q8_0: value = exact_32(type, row, x, as, k / 32); break;
            case Q4_K: value = exact_q4_K(row, x, as, k / 256); break;
            case Q6_K: value = exact_q6_K(row, x, k / 256); break;
            default: value = dot_exact_avx2(type, row, x, k); break;
            }
        } else {
            switch (type) {
            case Q4_0: value = scaled ? dot_q4_0_avx2(row, xq, ad, k / 32) : dot_quantized(type, row, xq, k); break;
            case Q4_1: value = scaled ? dot_q4_1_avx2(row, xq, ad, as, k / 32) : dot_quantized(type, row, xq, k); break;
            case Q8_0: value = scaled ? dot_q8_0_avx2(row, xq, ad, k / 32) : dot_quantized(type, row, xq, k); break;
            case Q4_K: value = dot_q4_K_avx2(row, xq, k / 256); break;
            case Q6_K: value = dot_q6_K_avx2(row, xq, k / 256); break;
            default: value = dot_quantized(type, row, xq, k); break;
            }
        }
        y[r - r0] = value;
    }
}
#endif

// MARK: - Dispatch

static atomic_int forced_portable;

int assay_simd_level(void) {
#if ASSAY_X86
    if (atomic_load_explicit(&forced_portable, memory_order_relaxed)) return 0;
    static atomic_int level = -1;
    if (atomic_load_explicit(&level, memory_order_relaxed) < 0) {
        __builtin_cpu_init();
        level = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c") ? 1 : 0;
    }
    return level;
#else
    return 0;
#endif
}

void assay_force_portable(int on) { forced_portable = on; }

void assay_gemv(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq, float *y, int64_t r0,
                int64_t r1) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        gemv_avx2(type, (const uint8_t *)w, row_bytes, k, x, (const uint8_t *)xq, y, r0, r1);
        return;
    }
#endif
    gemv_portable(type, (const uint8_t *)w, row_bytes, k, x, (const uint8_t *)xq, y, r0, r1);
}
