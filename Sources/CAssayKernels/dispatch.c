// Which kernels run: the SIMD level the CPU offers (or the portable ones when forced, for tests).
#include "internal.h"

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

static atomic_int forced_avx2;

int assay_avx512_level(void) {
#if ASSAY_X86
    if (assay_simd_level() < 1 || atomic_load_explicit(&forced_avx2, memory_order_relaxed)) return 0;
    static atomic_int level = -1;
    if (atomic_load_explicit(&level, memory_order_relaxed) < 0) {
        __builtin_cpu_init();
        int foundation = __builtin_cpu_supports("avx512f");
        int vnni = foundation && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512vnni");
        level = vnni ? 2 : foundation ? 1 : 0;
    }
    return level;
#else
    return 0;
#endif
}

void assay_force_avx2(int on) { forced_avx2 = on; }

int assay_avx512_vbmi(void) {
#if ASSAY_X86
    if (assay_avx512_level() < 2) return 0;
    static atomic_int vbmi = -1;
    if (atomic_load_explicit(&vbmi, memory_order_relaxed) < 0) {
        __builtin_cpu_init();
        vbmi = __builtin_cpu_supports("avx512vbmi") ? 1 : 0;
    }
    return vbmi;
#else
    return 0;
#endif
}

int assay_portable_forced(void) { return atomic_load_explicit(&forced_portable, memory_order_relaxed); }

void assay_gemv(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq, float *y, int64_t r0,
                int64_t r1) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        if (xq) assay_gemv_ggml_avx2(type, (const uint8_t *)w, row_bytes, k, (const uint8_t *)xq, y, r0, r1);
        else assay_gemv_exact_avx2(type, (const uint8_t *)w, row_bytes, k, x, y, r0, r1);
        return;
    }
#endif
    assay_gemv_portable(type, (const uint8_t *)w, row_bytes, k, x, (const uint8_t *)xq, y, r0, r1);
}

void assay_gemm_tile(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy) {
#if ASSAY_X86
    if (assay_simd_level() >= 1) {
        assay_gemm_tile_avx2(tile, n, k, x, m, y, ldy);
        return;
    }
#endif
    assay_gemm_tile_portable(tile, n, k, x, m, y, ldy);
}
