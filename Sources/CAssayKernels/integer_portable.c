// The integer GEMM's portable chain (each output's float operations as the SIMD kernels of
// integer.c do them, see there), the activations' terms every kernel reads, and the sizes the
// callers allocate.
#include "integer_layout.h"

// Only where SIMD kernels run (or the portable ones are forced, for tests): the portable kernel
// unpacks every block once per activation row, far slower than sgemm on dequantized panels.
int assay_integer_gemm_type(int type) {
    return (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q8_0 || type == Q2_K || type == Q3_K ||
            type == Q4_K || type == Q5_K || type == Q6_K) &&
           (assay_integer_lanes() > 0 || assay_portable_forced());
}

// Q6_K's 256 values of a block, 0–63, in order (dequantize_block's layout).
static void q6_K_block_values(const uint8_t *b, int q[256]) {
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = b + half * 64, *qh = b + 128 + half * 32;
        for (int l = 0; l < 32; l++) {
            q[128 * half + l] = (ql[l] & 0x0F) | (qh[l] & 3) << 4;
            q[128 * half + l + 32] = (ql[l + 32] & 0x0F) | ((qh[l] >> 2) & 3) << 4;
            q[128 * half + l + 64] = (ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4;
            q[128 * half + l + 96] = (ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4;
        }
    }
}

// One output's chain (see the top of integer.c) over `blocks` blocks of row `w` and activation row `x`.
static float chain(int type, const uint8_t *w, const uint8_t *x, int64_t blocks) {
    float acc = 0;
    int wb = block_bytes(type), ab = activation_bytes(type), av = activation_values(type);
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *b = w + i * wb, *a = x + i * ab;
        const int8_t *q8 = (const int8_t *)(a + av);
        int sum = 0;
        if (type == Q4_0 || type == Q4_1) {
            int offset = type == Q4_0 ? 8 : 0, at = type == Q4_0 ? 2 : 4;
            for (int j = 0; j < 16; j++) sum += ((b[at + j] & 0x0F) - offset) * q8[j] + ((b[at + j] >> 4) - offset) * q8[j + 16];
            acc = fmaf(load_half(b) * load_half(a), (float)sum, acc);
            if (type == Q4_1) acc = fmaf(load_half(b + 2), load_half(a + 2), acc);
        } else if (type == Q5_0 || type == Q5_1) {
            int offset = type == Q5_0 ? 16 : 0, at = type == Q5_0 ? 2 : 4;
            uint32_t qh = load_u32(b + at);
            for (int j = 0; j < 16; j++) {
                int lo = (b[at + 4 + j] & 0x0F) | (int)((qh >> j) & 1) << 4, hi = (b[at + 4 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
                sum += (lo - offset) * q8[j] + (hi - offset) * q8[j + 16];
            }
            acc = fmaf(load_half(b) * load_half(a), (float)sum, acc);
            if (type == Q5_1) acc = fmaf(load_half(b + 2), load_half(a + 2), acc);
        } else if (type == Q8_0) {
            for (int j = 0; j < 32; j++) sum += (int8_t)b[2 + j] * q8[j];
            acc = fmaf(load_half(b) * load_half(a), (float)sum, acc);
        } else if (type == Q4_K || type == Q5_K) {
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                uint8_t sc, mn;
                scale_min_k4(b + 4, j, &sc, &mn);
                const uint8_t *q = b + (type == Q4_K ? 16 : 48) + (j / 2) * 32;
                int part = 0;
                for (int l = 0; l < 32; l++) {
                    int value = (q[l] >> (4 * (j % 2))) & 0x0F;
                    if (type == Q5_K) value |= ((b[16 + l] >> j) & 1) << 4;
                    part += value * q8[32 * j + l];
                }
                sum += sc * part;
                mins += mn * (q8_K_sum(a, 2 * j) + q8_K_sum(a, 2 * j + 1));
            }
            float da = q8_K_scale(a);
            acc = fmaf(load_half(b) * da, (float)sum, acc);
            acc = fmaf(-(load_half(b + 2) * da), (float)mins, acc);
        } else if (type == Q2_K || type == Q3_K) {
            // Q2_K: Σ_j sc_j · Σ q·a and Σ_j m_j · Σa_j; Q3_K: Σ_j sc_j · (Σ q·a − 4 · Σa_j), q the
            // value + 4 (the low bits, plus 4 where the high bit is set).
            int8_t scales[16];
            if (type == Q3_K) q3_K_scales(b, scales);
            int mins = 0;
            for (int j = 0; j < 16; j++) {
                int part = 0;
                for (int l = 0; l < 16; l++) {
                    int e = 16 * j + l, run = e / 32, at = e % 32;
                    int q = (b[(type == Q2_K ? 16 : 32) + (run / 4) * 32 + at] >> (2 * (run % 4))) & 3;
                    if (type == Q3_K) q |= ((b[at] >> run) & 1) << 2;
                    part += q * q8[e];
                }
                if (type == Q2_K) {
                    sum += (b[j] & 0x0F) * part;
                    mins += (b[j] >> 4) * q8_K_sum(a, j);
                } else {
                    sum += scales[j] * (part - 4 * q8_K_sum(a, j));
                }
            }
            float da = q8_K_scale(a);
            acc = fmaf(load_half(b + (type == Q2_K ? 80 : 108)) * da, (float)sum, acc);
            if (type == Q2_K) acc = fmaf(-(load_half(b + 82) * da), (float)mins, acc);
        } else {
            // Σ_j sc_j · (Σ q·a − 32 · Σa_j), with q8_K's stored sums of 16 as Σa_j (as ggml's kernels read them).
            int q[256];
            q6_K_block_values(b, q);
            for (int j = 0; j < 16; j++) {
                int part = 0;
                for (int l = 0; l < 16; l++) part += q[16 * j + l] * q8[16 * j + l];
                sum += (int8_t)b[192 + j] * (part - 32 * q8_K_sum(a, j));
            }
            acc = fmaf(load_half(b + 208) * q8_K_scale(a), (float)sum, acc);
        }
    }
    return acc;
}

void assay_gemm_integer_rows_portable(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq,
                                      size_t xq_row_bytes, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++)
        for (int64_t a = 0; a < m; a++)
            y[a * ldy + r] = chain(type, w + (size_t)r * row_bytes, xq + (size_t)a * xq_row_bytes, k / values_per_block(type));
}

// Each activation block's scale, then (`m · blocks` floats on) its extra terms (extra_terms).
void assay_integer_terms(int type, const uint8_t *xq, size_t xq_row_bytes, int64_t m, int64_t k, float *terms) {
    int64_t blocks = k / values_per_block(type), extras = extra_terms(type);
    int ab = activation_bytes(type), av = activation_values(type);
    for (int64_t a = 0; a < m; a++)
        for (int64_t i = 0; i < blocks; i++) {
            const uint8_t *block = xq + (size_t)a * xq_row_bytes + i * ab;
            const int8_t *q8 = (const int8_t *)(block + av);
            uint32_t *extra = (uint32_t *)(terms + m * blocks + (a * blocks + i) * extras);
            terms[a * blocks + i] = k_quant(type) ? q8_K_scale(block) : load_half(block);
            switch (type) {
            case Q4_0: case Q5_0: {
                int32_t sum = 0;
                for (int j = 0; j < 32; j++) sum += q8[j];
                extra[0] = (uint32_t)((type == Q4_0 ? 8 : 16) * sum);
                break;
            }
            case Q4_1: case Q5_1: memcpy(extra, &(float){load_half(block + 2)}, 4); break;
            case Q8_0: {
                int32_t sum = 0;
                for (int t = 0; t < 16; t++) {
                    extra[t] = (uint16_t)(int16_t)q8[2 * t] | (uint32_t)(uint16_t)(int16_t)q8[2 * t + 1] << 16;
                    sum += q8[2 * t] + q8[2 * t + 1];
                }
                extra[16] = (uint32_t)(128 * sum);
                break;
            }
            case Q4_K: case Q5_K:
                for (int p = 0; p < 4; p++) {
                    uint16_t even = (uint16_t)(q8_K_sum(block, 4 * p) + q8_K_sum(block, 4 * p + 1));
                    uint16_t odd = (uint16_t)(q8_K_sum(block, 4 * p + 2) + q8_K_sum(block, 4 * p + 3));
                    extra[p] = (uint32_t)even | (uint32_t)odd << 16;
                }
                break;
            case Q2_K: case Q3_K: case Q6_K:
                for (int p = 0; p < 8; p++)
                    extra[p] = (uint32_t)(uint16_t)q8_K_sum(block, 2 * p) | (uint32_t)(uint16_t)q8_K_sum(block, 2 * p + 1) << 16;
                break;
            }
        }
}

size_t assay_integer_terms_bytes(int type, int64_t m, int64_t k) {
    return (size_t)m * (size_t)(k / values_per_block(type)) * (size_t)(1 + extra_terms(type)) * sizeof(float);
}

size_t assay_integer_scratch_bytes(int type, int lanes, int64_t k) {
    return GROUPS_AT_ONCE * (size_t)(k / values_per_block(type)) * group_block_bytes(type, lanes);
}

