// Matrix-vector throughput of CAssayKernels (bench/kernels.sh): GB/s of weights read by
// assay_gemv_parallel, f32 or quantized activations, matrices larger than the caches together.
#include "assay_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Offsets of a block's f16 scales (d, and dmin or m where the type has one) and block bytes.
static int layout(int type, int *bytes, int *scales, int *count) {
    switch (type) {
    case 2: *bytes = 18; *scales = 0; *count = 1; return 1;    // Q4_0
    case 3: *bytes = 20; *scales = 0; *count = 2; return 1;    // Q4_1
    case 6: *bytes = 22; *scales = 0; *count = 1; return 1;    // Q5_0
    case 7: *bytes = 24; *scales = 0; *count = 2; return 1;    // Q5_1
    case 8: *bytes = 34; *scales = 0; *count = 1; return 1;    // Q8_0
    case 10: *bytes = 84; *scales = 80; *count = 2; return 1;  // Q2_K
    case 11: *bytes = 110; *scales = 108; *count = 1; return 1; // Q3_K
    case 12: *bytes = 144; *scales = 0; *count = 2; return 1;  // Q4_K
    case 13: *bytes = 176; *scales = 0; *count = 2; return 1;  // Q5_K
    case 14: *bytes = 210; *scales = 208; *count = 1; return 1; // Q6_K
    default: return 0;
    }
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: kernels TYPE(2 q4_0, 3 q4_1, 8 q8_0, 12 q4_k, 14 q6_k) ggml(0|1) THREADS MATRICES ROWS COLUMNS [OUTLIERS]\n"
                        "  OUTLIERS: the share of blocks of 32 activations with one value 1000 times the rest (default 0)\n");
        return 2;
    }
    double outliers = argc == 8 ? atof(argv[7]) : 0;
    int type = atoi(argv[1]), ggml = atoi(argv[2]), threads = atoi(argv[3]), matrices = atoi(argv[4]);
    int64_t rows = atoll(argv[5]), k = atoll(argv[6]);
    int bytes, scales, count;
    if (!layout(type, &bytes, &scales, &count) || matrices < 1 || rows < 1 || k < 1) return 2;
    size_t row_bytes = assay_row_bytes(type, k), total = row_bytes * (size_t)rows;
    if (row_bytes == 0) return 2;
    uint8_t **w = malloc(sizeof(uint8_t *) * (size_t)matrices);
    srand(1);
    for (int m = 0; m < matrices; m++) {
        w[m] = aligned_alloc(64, (total + 63) / 64 * 64);
        for (size_t i = 0; i < total; i++) w[m][i] = (uint8_t)rand();
        // Scales of 0.01 (f16 0x211F): random bytes there would give infinities and NaNs.
        for (size_t b = 0; b < total; b += (size_t)bytes)
            for (int s = 0; s < count; s++) { w[m][b + scales + 2 * s] = 0x1F; w[m][b + scales + 2 * s + 1] = 0x21; }
    }
    float *x = malloc(sizeof(float) * (size_t)k), *y = malloc(sizeof(float) * (size_t)rows);
    for (int64_t i = 0; i < k; i++) x[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
    // Outliers (exact numerics take each out of its block's limbs and meet it on its own).
    for (int64_t b = 0; b + 32 <= k; b += 32)
        if (rand() % 1000 < outliers * 1000) x[b + rand() % 32] *= 1000;
    int activation = assay_vec_dot_type(type);
    uint8_t *xq = malloc(assay_row_bytes(activation, k) + 64);
    assay_quantize_row(activation, x, xq, k);
    assay_set_threads(threads);
    double best = 1e30;
    for (int repetition = 0; repetition < 7; repetition++) {
        double start = now();
        for (int m = 0; m < matrices; m++) assay_gemv_parallel(type, w[m], row_bytes, k, x, ggml ? xq : NULL, y, rows, 1 << 15);
        double t = now() - start;
        if (t < best) best = t;
    }
    printf("%d\t%s\t%d\t%lld×%lld ×%d\t%.2f\t%.2f\n", type, ggml ? "ggml" : "exact", threads, (long long)rows, (long long)k, matrices,
           1e3 * best, (double)matrices * (double)total / best / 1e9);
    return 0;
}
