// Portable C products: ggml's integer formulas per block (quantized activations) and f32
// activations against dequantized blocks (exact).
#include "internal.h"

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

float assay_dot_quantized_portable(int type, const uint8_t *w, const uint8_t *a, int64_t k) {
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

void assay_gemv_portable(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, const uint8_t *xq, float *y,
                         int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        y[r - r0] = xq ? assay_dot_quantized_portable(type, row, xq, k) : dot_exact(type, row, x, k);
    }
}

// The tile products in the order of the AVX2 kernel — eight lanes over k, summed as its hsum
// does, then the tail — with a separate multiply and add where the AVX2 kernel fuses them.
void assay_gemm_tile_portable(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy) {
    for (int64_t a = 0; a < m; a++)
        for (int64_t r = 0; r < n; r++) {
            const float *w = tile + r * k, *v = x + a * k;
            float lanes[8] = {0};
            int64_t j = 0;
            for (; j + 8 <= k; j += 8)
                for (int l = 0; l < 8; l++) lanes[l] += w[j + l] * v[j + l];
            float tail = 0;
            for (; j < k; j++) tail += w[j] * v[j];
            float t0 = lanes[0] + lanes[4], t1 = lanes[1] + lanes[5], t2 = lanes[2] + lanes[6], t3 = lanes[3] + lanes[7];
            y[a * ldy + r] = ((t0 + t2) + (t1 + t3)) + tail;
        }
}
