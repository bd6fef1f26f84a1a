// Shared by the kernel files (private to CAssayKernels): ggml type ids, scalar conversions, block
// sizes, the one-block dequantization every path relies on (bit-identical to Dequantizer.swift),
// and the entry points the files call in one another.
//
// Built with -ffp-contract=off: dequantized values must equal AssayTensor's Dequantizer bit for
// bit (products and sums rounded separately, as gguf-py computes them); fused multiply-adds
// appear only where written (the dot-product accumulators).
#pragma once
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

static inline int block_size(int type) {
    switch (type) {
    case F32: case F16: case BF16: return 1;
    case Q4_0: case Q4_1: case Q5_0: case Q5_1: case Q8_0: case Q8_1: return 32;
    case Q2_K: case Q3_K: case Q4_K: case Q5_K: case Q6_K: case Q8_K: return 256;
    default: return 0;
    }
}

static inline int block_bytes(int type) {
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


// MARK: - One block dequantized (bit-identical to Dequantizer.swift)

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

// q8_K activation blocks: f32 scale, 256 int8 values, 16 int16 sums of 16.
static inline float q8_K_scale(const uint8_t *a) { float d; memcpy(&d, a, 4); return d; }
static inline const int8_t *q8_K_values(const uint8_t *a) { return (const int8_t *)(a + 4); }
static inline int q8_K_sum(const uint8_t *a, int g) { int16_t s; memcpy(&s, a + 260 + 2 * g, 2); return s; }

/// ggml's integer product of one row of `type` with activations in its vec-dot type (portable C).
float assay_dot_quantized_portable(int type, const uint8_t *w, const uint8_t *a, int64_t k);
/// Rows r0 ..< r1 through the portable kernels (see assay_gemv).
void assay_gemv_portable(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, const uint8_t *xq, float *y,
                         int64_t r0, int64_t r1);
#if ASSAY_X86
/// Rows r0 ..< r1 against f32 activations through the AVX2+FMA+F16C kernels (exact numerics,
/// avx2_exact.c; see assay_gemv).
void assay_gemv_exact_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, float *y, int64_t r0, int64_t r1);
/// One Q5_0, Q5_1 (`blocks` of 32), Q5_K, Q2_K or Q3_K (of 256) row against activations
/// transposed as avx2_exact.c's 4-bit products read them (`xt`, with Σ x terms after them: offset
/// −16 for Q5_0, −4 for Q3_K, 1 for the others) and Σ x per 32 values (`xs`, for Q5_K's mins);
/// avx2_exact_more.c.
float assay_exact_more_avx2(int type, const uint8_t *w, const float *xt, const float *xs, int64_t blocks);
/// Rows r0 ..< r1 against activations quantized to the weights' vec-dot type through the
/// AVX2+FMA+F16C kernels (ggml numerics, avx2_ggml.c; see assay_gemv).
void assay_gemv_ggml_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, float *y, int64_t r0, int64_t r1);
/// Rows r0 ..< r1 of W against `m` quantized activation rows (`xq`, `xq_row_bytes` apart; y[a ·
/// ldy + r]) for Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K–Q6_K: each output bit-identical to assay_gemv_ggml_avx2's,
/// each weight block unpacked once for up to four activation rows. Returns 0 (nothing written)
/// for other types, rows too long for decode's AVX2 products, or no memory.
int assay_gemm_quantized_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                              int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1);
/// 1 when the CPU has AVX-512 with VNNI and VBMI (and AVX2 is not forced).
int assay_avx512_vbmi(void);
/// 1 when assay_ggml_rows_avx512 takes `type` on this CPU (Q4_0 with VNNI and VBMI, Q4_K and Q6_K
/// with VNNI).
int assay_ggml_rows_avx512_available(int type);
/// Rows r0 ..< r1 of a Q4_0, Q4_K or Q6_K matrix against `m` activation rows quantized to its vec-dot
/// type (`xq`, `xq_row_bytes` apart), y[a · ldy + r − r0], on AVX-512 (avx512_ggml.c): each output
/// the same bits whatever m is. Returns 0 (nothing written) when out of memory.
int assay_ggml_rows_avx512(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes, int64_t m,
                           float *y, int64_t ldy, int64_t r0, int64_t r1);
/// assay_ggml_rows_avx512 in two steps, so that a product's threads share one preparation: the
/// bytes the activations of `m` rows take rearranged for the kernels (0: not a type or CPU
/// assay_ggml_rows_avx512 takes; a multiple of 64), the rearranging into `g` (64-byte aligned),
/// and rows r0 ..< r1 against them (y[a · ldy + r − r0]), the same bits as assay_ggml_rows_avx512.
size_t assay_ggml_prepared_bytes(int type, int64_t k, int64_t m);
void assay_ggml_prepare_avx512(int type, int64_t k, const uint8_t *xq, size_t xq_row_bytes, int64_t m, void *g);
void assay_ggml_rows_avx512_prepared(int type, const uint8_t *w, size_t row_bytes, int64_t k, const void *g, int64_t m, float *y,
                                     int64_t ldy, int64_t r0, int64_t r1);
/// Exact numerics through integer products (avx512_exact.c): the bytes one f32 activation row of
/// `k` values takes split into 8-bit limbs for `type`'s kernel (0: not Q4_0, Q4_1, Q4_K, Q5_K or Q6_K
/// with whole blocks, or no AVX-512 VNNI and VBMI; a multiple of 64), the split into `g` (64-byte aligned; 0 when a value
/// cannot be carried: NaN, an infinity, a magnitude above 2^60 or a block whose largest, its
/// outlier aside, is below 2^−60, and then the float kernels take the product), and rows r0 ..< r1 against it (y[r − r0]).
size_t assay_exact_prepared_bytes(int type, int64_t k);
int assay_exact_prepare_avx512(int type, int64_t k, const float *x, void *g);
void assay_exact_rows_avx512_prepared(int type, const uint8_t *w, size_t row_bytes, int64_t k, const void *g, float *y, int64_t r0,
                                      int64_t r1);
/// Between 1 and 0 (one part of a short-batch product, on this thread): the exact kernels keep
/// the activation rows they transpose, by address, instead of transposing them for every call.
void assay_transposed_memo(int on);
/// y[a · ldy + r] = Σ_j tile[r · k + j] · x[a · k + j] for r < n (≤ 4) and a < m: f32 rows of a
/// dequantized weight tile against every activation row; each output is the same sum whatever n
/// and m are (8-lane multiply-adds over k, their horizontal sum, then the k % 8 tail).
void assay_gemm_tile_avx2(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy);
#endif
#if ASSAY_X86
/// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K–Q6_K rows dequantized with AVX2 (dequantize_block's
/// floats); 0 for other types.
int assay_dequantize_row_avx2(int type, const uint8_t *b, float *y, int64_t k);
#endif
/// assay_gemm_tile_avx2's products through the kernels the CPU runs.
void assay_gemm_tile(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy);
/// The same products in portable C: the same sum order as assay_gemm_tile_avx2, but a separate
/// multiply and add (rounded twice) where the AVX2 kernel fuses them.
void assay_gemm_tile_portable(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy);

#if ASSAY_X86
// What the avx2_*.c files and integer.c compile their kernels for (called only when the CPU has it).
#define ASSAY_AVX2 __attribute__((target("avx2,fma,f16c")))

// The 128 six-bit values (0–63) of half a Q6_K block, four runs of 32: run r takes nibble r / 2
// (low or high) of ql's bytes 32·(r % 2) … and the 2-bit field r of qh's bytes.
ASSAY_AVX2 static inline void q6_K_values(const uint8_t *ql, const uint8_t *qh, __m256i v[4]) {
    const __m256i mask = _mm256_set1_epi8(0x0F), two = _mm256_set1_epi8(0x03);
    __m256i h = _mm256_loadu_si256((const __m256i *)qh);
    __m256i l0 = _mm256_loadu_si256((const __m256i *)ql), l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
    v[0] = _mm256_or_si256(_mm256_and_si256(l0, mask), _mm256_slli_epi16(_mm256_and_si256(h, two), 4));
    v[1] = _mm256_or_si256(_mm256_and_si256(l1, mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two), 4));
    v[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two), 4));
    v[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), mask), _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two), 4));
}
#endif

/// Whether assay_force_portable(1) is in effect.
int assay_portable_forced(void);
/// assay_gemm_integer_parallel's products of rows r0 ..< r1 in portable C (integer.c).
void assay_gemm_integer_rows_portable(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq,
                                      size_t xq_row_bytes, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1);
/// Each activation block's scale and extra terms (integer.c), in assay_integer_terms_bytes, for
/// assay_gemm_integer_rows_simd.
void assay_integer_terms(int type, const uint8_t *xq, size_t xq_row_bytes, int64_t m, int64_t k, float *terms);
size_t assay_integer_terms_bytes(int type, int64_t m, int64_t k);
/// Bytes of the unpacked weight rows assay_gemm_integer_rows_simd works in, for groups of `lanes` rows.
size_t assay_integer_scratch_bytes(int type, int lanes, int64_t k);
#if ASSAY_X86
/// Whether assay_force_portable(1) is in effect.
int assay_portable_forced(void);
/// assay_gemm_integer_parallel's products of rows r0 ..< r1 (r0 a multiple of `lanes`, 8 or 16),
/// in `scratch` (assay_integer_scratch_bytes) with the activations' `terms` (assay_integer_terms).
void assay_gemm_integer_rows_simd(int lanes, int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq,
                                  size_t xq_row_bytes, const float *terms, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1,
                                  uint8_t *scratch);
#endif

/// The CPUs this process may keep busy without being throttled: assay_available_cpus() with the
/// cgroup quota rounded down (1.5 CPUs: 1), at least 1. More threads than that must not spin.
int assay_whole_cpus(void);
/// Columns j0 ..< j1 of assay_sgemm_ordered's product on this thread (ordered.c).
void assay_sgemm_ordered_columns(int64_t m, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                                 const float *start, float *c, int64_t ldc, int64_t j0, int64_t j1);
