// Prefill's matrix products alone (bench/integer-gemm.sh): the integer GEMM that `ggml` numerics
// run on quantized weights (assay_gemm_integer_parallel, with the activations' quantization
// timed in) against OpenBLAS's sgemm on the same weights dequantized to f32 (what `exact`
// numerics run, without its dequantization), side by side on the same threads; GMAC/s, best of 7.
#include "assay_kernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Offset of a block's f16 scales (d, and dmin or m where the type has one), block bytes, values a block.
static int layout(int type, int *bytes, int *scales, int *count, int *values) {
    switch (type) {
    case 2: *bytes = 18; *scales = 0; *count = 1; *values = 32; return 1;     // Q4_0
    case 3: *bytes = 20; *scales = 0; *count = 2; *values = 32; return 1;     // Q4_1
    case 8: *bytes = 34; *scales = 0; *count = 1; *values = 32; return 1;     // Q8_0
    case 12: *bytes = 144; *scales = 0; *count = 2; *values = 256; return 1;  // Q4_K
    case 14: *bytes = 210; *scales = 208; *count = 1; *values = 256; return 1; // Q6_K
    default: return 0;
    }
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: integer_gemm TYPE(2 q4_0, 3 q4_1, 8 q8_0, 12 q4_k, 14 q6_k) THREADS ROWS COLUMNS BATCH AVX2ONLY(0|1)\n");
        return 2;
    }
    int type = atoi(argv[1]), threads = atoi(argv[2]), avx2 = atoi(argv[6]);
    int64_t rows = atoll(argv[3]), k = atoll(argv[4]), m = atoll(argv[5]);
    int bytes, scales, count, values;
    if (!layout(type, &bytes, &scales, &count, &values) || rows < 1 || k < values || k % values || m < 1) return 2;
    size_t row_bytes = assay_row_bytes(type, k), total = row_bytes * (size_t)rows;
    uint8_t *w = aligned_alloc(64, (total + 63) / 64 * 64);
    srand(1);
    for (size_t i = 0; i < total; i++) w[i] = (uint8_t)rand();
    // Scales of 0.01 (f16 0x211F): random bytes there would give infinities and NaNs.
    for (size_t b = 0; b < total; b += (size_t)bytes)
        for (int s = 0; s < count; s++) { w[b + scales + 2 * s] = 0x1F; w[b + scales + 2 * s + 1] = 0x21; }
    float *x = malloc(sizeof(float) * (size_t)(m * k)), *y = malloc(sizeof(float) * (size_t)(m * rows));
    float *wf = malloc(sizeof(float) * (size_t)(rows * k));
    for (int64_t i = 0; i < m * k; i++) x[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
    for (int64_t r = 0; r < rows; r++) assay_dequantize_row(type, w + (size_t)r * row_bytes, wf + r * k, k);
    int activation = assay_vec_dot_type(type);
    size_t xs = assay_row_bytes(activation, k);
    uint8_t *xq = malloc(xs * (size_t)m + 64);
    assay_set_threads(threads);
    openblas_set_num_threads(threads);
    assay_force_avx2(avx2);
    double integer = 1e30, sgemm = 1e30;
    for (int repetition = 0; repetition < 7; repetition++) {
        double start = now();
        for (int64_t a = 0; a < m; a++) assay_quantize_row(activation, x + a * k, xq + (size_t)a * xs, k);
        assay_gemm_integer_parallel(type, w, row_bytes, k, xq, xs, m, y, rows, rows);
        double t = now() - start;
        if (t < integer) integer = t;
        start = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)rows, (int)k, 1, x, (int)k, wf, (int)k, 0, y, (int)rows);
        t = now() - start;
        if (t < sgemm) sgemm = t;
    }
    double macs = (double)rows * (double)k * (double)m;
    printf("%d\t%d\t%s\t%lld×%lld × %lld\t%.1f\t%.1f\t%.2f×\n", type, threads, assay_integer_lanes() == 16 ? "avx512" : "avx2", (long long)rows,
           (long long)k, (long long)m, macs / integer / 1e9, macs / sgemm / 1e9, sgemm / integer);
    return 0;
}
