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

void assay_quantize_row(int activation_type, const float *x, void *y, int64_t k) {
    switch (activation_type) {
    case Q8_0: quantize_q8_0(x, (uint8_t *)y, k, 0); break;
    case Q8_1: quantize_q8_0(x, (uint8_t *)y, k, 1); break;
    case Q8_K: quantize_q8_K(x, (uint8_t *)y, k); break;
    default: break;
    }
}
