// The encoder's ordered f32 products alone (bench/ordered.sh): assay_sgemm_ordered (every output
// one chain of fused multiply-adds in order; CAssayKernels/ordered.c) against OpenBLAS's sgemm on
// the same arrays, C = bias + A · Bᵀ with B a weight matrix of n rows of k, one thread each;
// GFLOP/s, best of 5. On a CPU with AVX-512 the ordered product runs twice: with it and with AVX2
// alone. Both results are compared with each other (the largest difference is printed: the
// products sum in different orders, so only rounding separates them).
#include "assay_kernels.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Seconds of the fastest of 5 rounds of `reps` products (ordered: avx2 0 or 1; -1: OpenBLAS).
static double best(int avx2, int64_t m, int64_t n, int64_t k, const float *a, const float *b, const float *bias, float *c, int reps) {
    double fastest = 1e30;
    if (avx2 >= 0) assay_force_avx2(avx2);
    for (int round = 0; round < 5; round++) {
        double start = now();
        for (int r = 0; r < reps; r++) {
            if (avx2 >= 0) {
                assay_sgemm_ordered(m, n, k, a, k, b, k, 1, bias, c, n, 1);
            } else {
                for (int64_t i = 0; i < m; i++) memcpy(c + i * n, bias, sizeof(float) * (size_t)n);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)m, (int)n, (int)k, 1, a, (int)k, b, (int)k, 1, c, (int)n);
            }
        }
        double t = (now() - start) / reps;
        if (t < fastest) fastest = t;
    }
    return fastest;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: ordered M N K\n");
        return 2;
    }
    int64_t m = atoll(argv[1]), n = atoll(argv[2]), k = atoll(argv[3]);
    if (m < 1 || n < 1 || k < 1) return 2;
    float *a = malloc(sizeof(float) * (size_t)(m * k)), *b = malloc(sizeof(float) * (size_t)(n * k));
    float *bias = malloc(sizeof(float) * (size_t)n), *c = malloc(sizeof(float) * (size_t)(m * n));
    float *reference = malloc(sizeof(float) * (size_t)(m * n));
    srand(1);
    for (int64_t i = 0; i < m * k; i++) a[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
    for (int64_t i = 0; i < n * k; i++) b[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
    for (int64_t i = 0; i < n; i++) bias[i] = (float)(rand() % 2001 - 1000) / 1000.0f;
    openblas_set_num_threads(1);
    // About 0.2 s a round, whatever the shape.
    int reps = (int)(1e10 / (2.0 * (double)m * (double)n * (double)k * 10)) + 1;
    double flops = 2.0 * (double)m * (double)n * (double)k;
    double blas = best(-1, m, n, k, a, b, bias, reference, reps);
    int levels = assay_avx512_level() >= 1 ? 2 : 1;
    for (int level = 0; level < levels; level++) {
        int avx2 = levels == 2 ? level : 0;
        double ordered = best(avx2, m, n, k, a, b, bias, c, reps);
        float worst = 0;
        for (int64_t i = 0; i < m * n; i++) worst = fmaxf(worst, fabsf(c[i] - reference[i]));
        printf("%lld×%lld×%lld\t%s\t%.1f\t%.1f\t%.2f×\t%.1e\n", (long long)m, (long long)n, (long long)k,
               levels == 2 && !avx2 ? "AVX-512" : "AVX2", flops / ordered / 1e9, flops / blas / 1e9, blas / ordered, (double)worst);
    }
    assay_force_avx2(0);
    return 0;
}
