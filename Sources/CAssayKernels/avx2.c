// AVX2 + FMA + F16C kernels, compiled for those features by function attribute and called only
// when the CPU has them (dispatch.c).
#include "internal.h"

#include <pthread.h>
#include <stdlib.h>

// MARK: - AVX2 + FMA + F16C

#if ASSAY_X86
#define AVX2 ASSAY_AVX2

// The half at p through F16C (exact for every finite half, as half_to_float).
AVX2 static inline float half_f16c(const uint8_t *p) { return _cvtsh_ss(load_u16(p)); }

AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// 32 nibbles of 16 bytes: low nibbles are values 0–15, high nibbles values 16–31 (ggml's order).
// The bytes are loaded into both lanes and the high lane shifted (no lane insert, a shuffle).
AVX2 static inline __m256i nibbles(const uint8_t *p) {
    __m256i both = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)p));
    return _mm256_and_si256(_mm256_srlv_epi64(both, _mm256_setr_epi64x(0, 0, 4, 4)), _mm256_set1_epi8(0x0F));
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

// Weights are asked for 8 KB ahead of the block being multiplied, one line each time a loop has
// moved on by 64–80 bytes (every 2–4 blocks, so some lines are not asked for). The hardware prefetcher alone kept too little of a matrix-vector product's stream in
// flight — it stops at each 4 KB page of a mapped file — and asking for a whole row ahead at the
// row's start did worse than this. Integer (ggml) products on two Zen 2 cores, 5632 × 2048 matrices
// from memory (bench/kernels.sh): Q4_0 6.6–8 → 16.7 GB/s, Q4_1 8.9 → 15.9, Q8_0 17.7 → 21.8, Q4_K
// 11–16 → 17.6, Q6_K 15.7 → 19.2. The exact dword loops (exact_4bit, exact_q8_0, exact_q4_K,
// exact_q6_K) ask too: they had lost up to 10 % with it while byte shuffles and scalar block
// scales bound them, and gain since; the fallbacks (exact_32, dot_exact_avx2) do not. A prefetch
// past a matrix's end never faults.
#define PREFETCH_DISTANCE 8192
// The address is formed as an integer: a pointer past the end of the matrix would be undefined.
#define PREFETCH(p) _mm_prefetch((const char *)((uintptr_t)(p) + PREFETCH_DISTANCE), _MM_HINT_T0)

// The 32-value formats below take the activations' block scales already as floats (`ad`, and
// for q8_1 the block sums `as`), converted once per product instead of once per row, and run two
// blocks per step on two accumulators so the FMA latency chain is split.

AVX2 static float dot_q4_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const __m256i eight = _mm256_set1_epi8(8);
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 36, a += 68) {
        if (i % 4 == 0) PREFETCH(w);
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
        if (i % 4 == 0) PREFETCH(w);
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
    __m128 offset0 = _mm_setzero_ps(), offset1 = _mm_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w0 += 18, w1 += 18, a += 34) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 2));
        // d in lane 0 (F16C on a 16-byte load within the block); the scalar products in lane 0.
        __m128 d0 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w0)), d1 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w1));
        __m128 scale = _mm_load_ss(ad + i), sum = _mm_load_ss(ys + i);
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(d0, scale)), dot_u8_i8(nibbles(w0 + 2), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(d1, scale)), dot_u8_i8(nibbles(w1 + 2), y), acc1);
        offset0 = _mm_add_ss(offset0, _mm_mul_ss(d0, sum));
        offset1 = _mm_add_ss(offset1, _mm_mul_ss(d1, sum));
    }
    out[0] = hsum(acc0) - 8 * _mm_cvtss_f32(offset0);
    out[1] = hsum(acc1) - 8 * _mm_cvtss_f32(offset1);
}

// Q4_1 against q8_1 (d·a_d·Σq·y + m·a_s), two weight rows sharing each activation block.
AVX2 static void dot2_q4_1_avx2(const uint8_t *w0, const uint8_t *w1, const uint8_t *a, const float *ad, const float *as, int64_t blocks,
                                float *out) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m128 mins0 = _mm_setzero_ps(), mins1 = _mm_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w0 += 20, w1 += 20, a += 36) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i y = _mm256_loadu_si256((const __m256i *)(a + 4));
        __m128 dm0 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w0)), dm1 = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w1));
        __m128 scale = _mm_load_ss(ad + i), sum = _mm_load_ss(as + i);
        acc0 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(dm0, scale)), dot_u8_i8(nibbles(w0 + 4), y), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_mul_ss(dm1, scale)), dot_u8_i8(nibbles(w1 + 4), y), acc1);
        mins0 = _mm_add_ss(mins0, _mm_mul_ss(_mm_movehdup_ps(dm0), sum));
        mins1 = _mm_add_ss(mins1, _mm_mul_ss(_mm_movehdup_ps(dm1), sum));
    }
    out[0] = hsum(acc0) + _mm_cvtss_f32(mins0);
    out[1] = hsum(acc1) + _mm_cvtss_f32(mins1);
}

AVX2 static float dot_q8_0_avx2(const uint8_t *w, const uint8_t *a, const float *ad, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 68, a += 68) {
        PREFETCH(w);
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

AVX2 static inline int hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_hadd_epi32(s, s);
    s = _mm_hadd_epi32(s, s);
    return _mm_cvtsi128_si32(s);
}

// Bytes that pick, in every 128-bit lane, int16 word j of the lane (a group's scale for madd).
AVX2 static inline __m256i word_picker(int j) { return _mm256_set1_epi16((short)((2 * j) | ((2 * j + 1) << 8))); }

// A Q4_K block's eight scales (bytes 0–7) and eight mins (bytes 8–15), scale_min_k4's values,
// unpacked together with ggml's 32-bit masks.
static inline __m128i q4_K_scale_bytes(const uint8_t *w) {
    uint32_t u[4];
    memcpy(u, w + 4, 12);
    u[3] = ((u[2] >> 4) & 0x0F0F0F0F) | (((u[1] >> 6) & 0x03030303) << 4);
    uint32_t mins_low = u[1] & 0x3F3F3F3F;
    u[1] = (u[2] & 0x0F0F0F0F) | (((u[0] >> 6) & 0x03030303) << 4);
    u[2] = mins_low;
    u[0] &= 0x3F3F3F3F;
    __m128i packed;
    memcpy(&packed, u, 16);
    return packed;
}

// Those as int16: the eight scales in both lanes of `scales`, and the mins each twice in a row
// (m0 m0 m1 m1 …, one per 16 activations: madd with Q8_K's sixteen sums gives m·Σ y per group).
// The integer sums are exact, so the results are those of per-group scalar code, which had taken
// as many instructions as the products.
AVX2 static inline void q4_K_scales(const uint8_t *w, __m256i *scales, __m256i *mins) {
    __m256i both = _mm256_cvtepu8_epi16(q4_K_scale_bytes(w));
    *scales = _mm256_permute2x128_si256(both, both, 0x00);
    const __m256i twice = _mm256_setr_epi8(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7);
    *mins = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(both, 0xFA), twice);
}

// A Q6_K block's sixteen int8 scales as int16 (`scales`: groups 0–7 in the low lane, 8–15 in the
// high one), and each half-block's eight in both lanes (`groups`).
AVX2 static inline void q6_K_scales(const uint8_t *w, __m256i *scales, __m256i groups[2]) {
    *scales = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
    groups[0] = _mm256_permute2x128_si256(*scales, *scales, 0x00);
    groups[1] = _mm256_permute2x128_si256(*scales, *scales, 0x11);
}

// The scales of a run of 32 (groups 2·run and 2·run + 1 of its half), one per 128-bit lane.
AVX2 static inline __m256i q6_K_run_scales(__m256i groups, int run) {
    return _mm256_shuffle_epi8(groups, _mm256_set_m128i(_mm_set1_epi16((short)((4 * run + 2) | ((4 * run + 3) << 8))),
                                                        _mm_set1_epi16((short)((4 * run) | ((4 * run + 1) << 8)))));
}

// Q4_K: 8 groups of 32 four-bit values with 6-bit scales and mins; the integer sums per group
// come from maddubs, the mins from the activations' block sums.
AVX2 static float dot_q4_K_avx2(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 144, a += ASSAY_Q8_K_BYTES) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        const int8_t *q = q8_K_values(a);
        __m256i scales, mins;
        q4_K_scales(w, &scales, &mins);
        __m256i scaled = _mm256_setzero_si256();
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 16 + pair * 32));
            __m256i low = _mm256_and_si256(bytes, _mm256_set1_epi8(0x0F));
            __m256i high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), _mm256_set1_epi8(0x0F));
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)(q + pair * 64))),
                                           _mm256_shuffle_epi8(scales, word_picker(2 * pair)));
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(q + pair * 64 + 32))),
                                           _mm256_shuffle_epi8(scales, word_picker(2 * pair + 1)));
            scaled = _mm256_add_epi32(scaled, _mm256_add_epi32(p0, p1));
        }
        int m = hsum_epi32(_mm256_madd_epi16(mins, _mm256_loadu_si256((const __m256i *)(a + 260))));
        float da = q8_K_scale(a);
        sum += da * half_f16c(w) * (float)hsum_epi32(scaled) - da * half_f16c(w + 2) * (float)m;
    }
    return sum;
}

// Q6_K: 16 groups of 16 six-bit values (stored +32) with int8 scales. Σ (q − 32)·y is computed
// as Σ q·y − 32·Σ y, the latter from the activations' block sums (Q8_K's sixteen, in one madd
// with the scales). A run of 32 has two groups of 16, one per 128-bit lane; the block's sixteen
// scales are widened once, and each run's pair of scales is one byte shuffle of them. Integer
// sums: the same result as per group in scalar code (which had taken a third of the block's
// instructions).
AVX2 static float dot_q6_K_avx2(const uint8_t *w, const uint8_t *a, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; i++, w += 210, a += ASSAY_Q8_K_BYTES) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128); PREFETCH(w + 192);
        const int8_t *q = q8_K_values(a);
        __m256i scales, groups[2];
        q6_K_scales(w, &scales, groups);
        __m256i scaled = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i v[4];
            q6_K_values(w + half * 64, w + 128 + half * 32, v);
            for (int run = 0; run < 4; run++) {
                __m256i y = _mm256_loadu_si256((const __m256i *)(q + half * 128 + run * 32));
                __m256i pairs = _mm256_maddubs_epi16(v[run], y);  // 16 sums of 2, values 0..63: no saturation
                scaled = _mm256_add_epi32(scaled, _mm256_madd_epi16(pairs, q6_K_run_scales(groups[half], run)));
            }
        }
        __m256i offset = _mm256_madd_epi16(scales, _mm256_loadu_si256((const __m256i *)(a + 260)));
        scaled = _mm256_sub_epi32(scaled, _mm256_slli_epi32(offset, 5));
        sum += q8_K_scale(a) * half_f16c(w + 208) * (float)hsum_epi32(scaled);
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

// Exact 4-bit products without byte shuffles. The products above widen bytes to int32 lanes with
// vpmovsxbd, a shuffle, and Zen 2 runs one 256-bit shuffle a cycle: a Q4_0 block of 32 weights
// took 8 of them (about 10 cycles), so exact decode ran at half of ggml's integer speed. Here a
// block's bytes are loaded as dwords and every lane shifts its own dword (dword i holds bytes
// 4i…4i+3): step t's lanes take byte t of each dword — weights 4i + t — so the activations are
// read in that order, transposed once per product (`xt`: within each 32 values xt[8t + i] = x[4i + t]).
// For Q4_0/Q4_1 (16 bytes: low nibbles weights 0–15, high nibbles 16–31) the 16 bytes go to both
// halves and the upper four lanes shift 4 more bits, so lane i ≥ 4 takes the high nibble of byte
// 4(i − 4) + t, weight 16 + 4(i − 4) + t = 4i + t: the same order. Step t does not shift its
// value down: it masks the value where it is (bits 8t…, so the integer is q·2^8t, which converts
// to float exactly) and meets xt, whose step-t values are x·2^−8t: the same product q·x, so the
// same sums bit for bit, without three of the four shifts a block (vector shifts were the
// busiest pipe: 2.14 → 1.4 ns a Q4_0 block on one core, from cache). Only activations below
// 2^−102 in magnitude, which become subnormal when scaled, lose bits.

// `x` in the lane order above, step t's values times 2^−8t, followed by k / 4 floats of Σx terms
// (fill), in a buffer of this thread's (grown as needed), or NULL when no memory is left (the
// callers then take the shuffle or the block-dequantizing products).
//
// A short batch of kind 2 (pool.c; for exact products of these types only when its dequantized
// tiles could not be allocated) multiplies a few weight rows at a time by every activation row,
// calling assay_gemv once per (tile, activation row): without a memo each call would transpose its
// row again (on the 1.1B shape's down projection, 5,632 values for every 4 weight rows, 30 % of
// the work). Between assay_transposed_memo(1) and (0) — one part of one product, whose activation
// rows do not change — a thread keeps up to MEMO_ROWS transposed rows, found by their address
// and offset.
#define MEMO_ROWS 64
typedef struct { float *data; int64_t capacity; } buffer_t;
static _Thread_local buffer_t scratch, memo[MEMO_ROWS];
static _Thread_local const float *memo_source[MEMO_ROWS];
static _Thread_local float memo_offset[MEMO_ROWS];
static _Thread_local int memo_on, memo_count;

void assay_transposed_memo(int on) {
    memo_on = on;
    memo_count = 0;
}

// The buffers go when their thread ends (pool workers live as long as the process; a caller's
// thread may not).
static pthread_key_t buffers_key;
static pthread_once_t buffers_once = PTHREAD_ONCE_INIT;
static void free_buffers(void *unused) {
    (void)unused;
    free(scratch.data);
    scratch = (buffer_t){NULL, 0};
    for (int j = 0; j < MEMO_ROWS; j++) {
        free(memo[j].data);
        memo[j] = (buffer_t){NULL, 0};
    }
}
static void make_buffers_key(void) { pthread_key_create(&buffers_key, free_buffers); }

// After the transposed values, `offset` times each block's lane sums of the unscaled activations
// (t[8j + i] = offset · Σ_s x[32j + 4i + s]): Q4_0 (offset −8) and Q6_K (−32) start each block's
// products from them, Q4_1 (1) adds m times them.
static float *fill(buffer_t *b, const float *x, int64_t k, float offset) {
    int64_t size = k + k / 4;
    if (size > b->capacity) {
        float *grown = aligned_alloc(32, (size_t)((size + 7) / 8) * 32);
        if (!grown) return NULL;
        pthread_once(&buffers_once, make_buffers_key);
        pthread_setspecific(buffers_key, (void *)1);
        free(b->data);
        b->data = grown;
        b->capacity = size;
    }
    float *t = b->data + k;
    const float scale[4] = {1.0f, 0x1p-8f, 0x1p-16f, 0x1p-24f};
    for (int64_t g = 0; g + 32 <= k; g += 32)
        for (int i = 0; i < 8; i++) {
            for (int s = 0; s < 4; s++) b->data[g + 8 * s + i] = x[g + 4 * i + s] * scale[s];
            t[g / 4 + i] = offset * (((x[g + 4 * i] + x[g + 4 * i + 1]) + x[g + 4 * i + 2]) + x[g + 4 * i + 3]);
        }
    return b->data;
}

static const float *transpose_groups(const float *x, int64_t k, float offset) {
    if (!memo_on) return fill(&scratch, x, k, offset);
    for (int j = 0; j < memo_count; j++)
        if (memo_source[j] == x && memo_offset[j] == offset) return memo[j].data;
    if (memo_count == MEMO_ROWS) return fill(&scratch, x, k, offset);
    const float *xt = fill(&memo[memo_count], x, k, offset);
    if (xt) {
        memo_source[memo_count] = x;
        memo_offset[memo_count++] = offset;
    }
    return xt;
}

// start + Σ over 32 weights of q·x as 8 lanes: `u` holds the block's dwords already shifted for
// step 0 (nibble q of weight 4i + t at bits 8t…8t+3 of lane i), `xt` the transposed activations.
AVX2 static inline __m256 nibble_products(__m256i u, const float *xt, __m256 start) {
    __m256 g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0x0F))), _mm256_load_ps(xt), start);
    __m256 g1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0x0F00))), _mm256_load_ps(xt + 8));
    g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0x0F0000))), _mm256_load_ps(xt + 16), g0);
    g1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0x0F000000))), _mm256_load_ps(xt + 24), g1);
    return _mm256_add_ps(g0, g1);
}

// Q4_0 and Q4_1, four blocks a step, even blocks on one accumulator and odd ones on another (named
// registers: an accumulator array indexed by the block would live in memory), one loop per type. The block's halves (d, and Q4_1's m) come from one
// F16C conversion of a 16-byte load (within the 18- or 20-byte block), and the Σ x terms stay in
// vectors: Q4_0's products start from −8 times the block's lane sums (`t`, after `xt`), Q4_1 adds
// m times them on accumulators of their own — d·Σ (q − 8)·x and d·Σ q·x + m·Σ x. Scalar scale and
// Σ x arithmetic per block had taken a third of the time (2.98 → 2.14 ns a Q4_0 block on one core,
// from cache).
AVX2 static inline __attribute__((always_inline)) void nibble_block(const int type, const uint8_t *w, const float *xt, const float *t, __m256 *acc, __m256 *mins) {
    const __m256i upper = _mm256_setr_epi32(0, 0, 0, 0, 4, 4, 4, 4);
    __m256i u = _mm256_srlv_epi32(_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(w + (type == Q4_0 ? 2 : 4)))), upper);
    __m128 halves = _mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w));
    __m256 start = _mm256_setzero_ps();
    if (type == Q4_0) start = _mm256_load_ps(t);
    else *mins = _mm256_fmadd_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(halves)), _mm256_load_ps(t), *mins);
    *acc = _mm256_fmadd_ps(_mm256_broadcastss_ps(halves), nibble_products(u, xt, start), *acc);
}

AVX2 static inline __attribute__((always_inline)) float exact_4bit_type(const int type, const uint8_t *w, const float *xt, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins0 = _mm256_setzero_ps(), mins1 = _mm256_setzero_ps();
    const float *t = xt + 32 * blocks;
    int bytes = block_bytes(type);
    int64_t i = 0;
    for (; i + 4 <= blocks; i += 4, w += 4 * bytes) {
        PREFETCH(w); PREFETCH(w + 2 * bytes);
        nibble_block(type, w, xt + 32 * i, t + 8 * i, &acc0, &mins0);
        nibble_block(type, w + bytes, xt + 32 * i + 32, t + 8 * i + 8, &acc1, &mins1);
        nibble_block(type, w + 2 * bytes, xt + 32 * i + 64, t + 8 * i + 16, &acc0, &mins0);
        nibble_block(type, w + 3 * bytes, xt + 32 * i + 96, t + 8 * i + 24, &acc1, &mins1);
    }
    for (; i < blocks; i++, w += bytes) nibble_block(type, w, xt + 32 * i, t + 8 * i, i % 2 ? &acc1 : &acc0, i % 2 ? &mins1 : &mins0);
    return hsum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(mins0, mins1)));
}

// One loop per type (the type's offsets and terms constant inside it).
AVX2 static float exact_4bit(int type, const uint8_t *w, const float *xt, int64_t blocks) {
    return type == Q4_0 ? exact_4bit_type(Q4_0, w, xt, blocks) : exact_4bit_type(Q4_1, w, xt, blocks);
}

// Q4_K: eight groups of 32 weights a block, each with its 6-bit scale and min; a pair of groups
// shares 32 bytes (low nibbles the first group, high nibbles the second). A block's eight scales
// and eight mins are unpacked together (q4_K_scale_bytes) into two vectors, d·scale and
// dmin·min, so a group's scale is one lane permutation and the mins meet the 8 groups' Σ x in one
// multiply-add a block (per group in scalar code they had cost as much as the products).
AVX2 static float exact_q4_K(const uint8_t *w, const float *xt, const float *xs, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), mins = _mm256_setzero_ps();
    const __m256i lane[8] = {_mm256_set1_epi32(0), _mm256_set1_epi32(1), _mm256_set1_epi32(2), _mm256_set1_epi32(3),
                             _mm256_set1_epi32(4), _mm256_set1_epi32(5), _mm256_set1_epi32(6), _mm256_set1_epi32(7)};
    for (int64_t i = 0; i < blocks; i++, w += 144, xt += 256, xs += 8) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        __m128 dm = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w)));
        __m128i packed = q4_K_scale_bytes(w);
        __m256 scales = _mm256_mul_ps(_mm256_broadcastss_ps(dm), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(packed)));
        __m256 ms = _mm256_mul_ps(_mm256_broadcastss_ps(_mm_movehdup_ps(dm)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(packed, 8))));
        mins = _mm256_fmadd_ps(ms, _mm256_loadu_ps(xs), mins);
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 16 + pair * 32));
            acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales, lane[2 * pair]), nibble_products(bytes, xt + pair * 64, _mm256_setzero_ps()), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales, lane[2 * pair + 1]),
                                   nibble_products(_mm256_srli_epi32(bytes, 4), xt + pair * 64 + 32, _mm256_setzero_ps()), acc1);
        }
    }
    return hsum(_mm256_sub_ps(_mm256_add_ps(acc0, acc1), mins));
}

// start + Σ over 32 weights of q·x as 8 lanes for 32 byte values (0–127: byte 3, masked in place,
// must leave the sign bit clear) whose dword i holds weights 4i…4i+3, `xt` the transposed
// activations (the 4-bit products' order and scaling).
AVX2 static inline __m256 byte_products(__m256i u, const float *xt, __m256 start) {
    __m256 g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF))), _mm256_load_ps(xt), start);
    __m256 g1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF00))), _mm256_load_ps(xt + 8));
    g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF0000))), _mm256_load_ps(xt + 16), g0);
    g1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32((int)0xFF000000u))), _mm256_load_ps(xt + 24), g1);
    return _mm256_add_ps(g0, g1);
}

// Q8_0: the 32 signed bytes read as dwords like the 4-bit blocks, byte t of each lane made the
// signed integer q·2^8t to meet xt's x·2^−8t: byte 3 by a mask (it holds the sign bit), bytes 0–2
// by sign-extending the lane's low 8, 16 or 24 bits and masking off the bytes below; two blocks
// a step, weights asked for ahead. vpmovsxbd had taken seven shuffles a block (25.5 → 28–30 GB/s
// on two cores).
AVX2 static inline __m256 signed_byte_products(__m256i u, const float *xt) {
    __m256i b0 = _mm256_srai_epi32(_mm256_slli_epi32(u, 24), 24);
    __m256i b1 = _mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(u, 16), 16), _mm256_set1_epi32((int)0xFFFFFF00u));
    __m256i b2 = _mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(u, 8), 8), _mm256_set1_epi32((int)0xFFFF0000u));
    __m256i b3 = _mm256_and_si256(u, _mm256_set1_epi32((int)0xFF000000u));
    __m256 g0 = _mm256_mul_ps(_mm256_cvtepi32_ps(b0), _mm256_load_ps(xt));
    __m256 g1 = _mm256_mul_ps(_mm256_cvtepi32_ps(b1), _mm256_load_ps(xt + 8));
    g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(b2), _mm256_load_ps(xt + 16), g0);
    g1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(b3), _mm256_load_ps(xt + 24), g1);
    return _mm256_add_ps(g0, g1);
}

AVX2 static inline __m256 q8_0_block(const uint8_t *w, const float *xt, __m256 acc) {
    __m256 d = _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_loadu_si128((const __m128i *)w)));
    return _mm256_fmadd_ps(d, signed_byte_products(_mm256_loadu_si256((const __m256i *)(w + 2)), xt), acc);
}

AVX2 static float exact_q8_0(const uint8_t *w, const float *xt, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 2 <= blocks; i += 2, w += 68) {
        PREFETCH(w);
        acc0 = q8_0_block(w, xt + 32 * i, acc0);
        acc1 = q8_0_block(w + 34, xt + 32 * i + 32, acc1);
    }
    if (i < blocks) acc0 = q8_0_block(w, xt + 32 * i, acc0);
    return hsum(_mm256_add_ps(acc0, acc1));
}

// Q6_K: sixteen groups of 16 weights a block, each with its int8 scale, values 0–63 offset by
// −32. A run of 32 values (q6_K_values' bytes) is read as dwords like the 4-bit blocks, so its
// lanes 0–3 hold one group and lanes 4–7 the next: one multiply-add with the two groups' d·scale
// (a lane permutation of the block's scales, converted together) applies both, and the products
// start from −32 times the lanes' Σ x (`t`, after `xt`). Widening the bytes with vpmovsxbd had
// taken seven shuffles a run (Zen 2 runs one a cycle).
AVX2 static float exact_q6_K(const uint8_t *w, const float *xt, int64_t blocks) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    const float *t = xt + 256 * blocks;
    const __m256i pick[4] = {_mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
                             _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
    for (int64_t i = 0; i < blocks; i++, w += 210, xt += 256, t += 64) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128); PREFETCH(w + 192);
        __m256 d = _mm256_broadcastss_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(load_u16(w + 208))));
        __m128i packed = _mm_loadu_si128((const __m128i *)(w + 192));
        __m256 scales[2] = {_mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(packed))),
                            _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(packed, 8))))};
        for (int half = 0; half < 2; half++) {
            __m256i v[4];
            q6_K_values(w + half * 64, w + 128 + half * 32, v);
            const float *x = xt + half * 128, *th = t + half * 32;
            acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales[half], pick[0]), byte_products(v[0], x, _mm256_load_ps(th)), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales[half], pick[1]), byte_products(v[1], x + 32, _mm256_load_ps(th + 8)), acc1);
            acc0 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales[half], pick[2]), byte_products(v[2], x + 64, _mm256_load_ps(th + 16)), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_permutevar8x32_ps(scales[half], pick[3]), byte_products(v[3], x + 96, _mm256_load_ps(th + 24)), acc1);
        }
    }
    return hsum(_mm256_add_ps(acc0, acc1));
}

// Most 32-value activation blocks whose scales are converted ahead (k ≤ 262,144); longer rows
// take the portable products.
#define SCALED_BLOCKS 8192

AVX2 void assay_gemv_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, const uint8_t *xq, float *y,
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
    const float *xt = summed && (type == Q4_0 || type == Q4_1 || type == Q8_0 || type == Q4_K || type == Q6_K)
        ? transpose_groups(x, k, type == Q4_0 ? -8.0f : type == Q6_K ? -32.0f : 1.0f) : NULL;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        float value;
        if (!xq) {
            switch (summed ? type : -1) {
            case Q4_0: case Q4_1: value = xt ? exact_4bit(type, row, xt, k / 32) : exact_32(type, row, x, as, k / 32); break;
            case Q8_0: value = xt ? exact_q8_0(row, xt, k / 32) : exact_32(type, row, x, as, k / 32); break;
            case Q4_K: value = xt ? exact_q4_K(row, xt, as, k / 256) : dot_exact_avx2(type, row, x, k); break;
            case Q6_K: value = xt ? exact_q6_K(row, xt, k / 256) : dot_exact_avx2(type, row, x, k); break;
            default: value = dot_exact_avx2(type, row, x, k); break;
            }
        } else {
            switch (type) {
            case Q4_0: value = scaled ? dot_q4_0_avx2(row, xq, ad, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
            case Q4_1: value = scaled ? dot_q4_1_avx2(row, xq, ad, as, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
            case Q8_0: value = scaled ? dot_q8_0_avx2(row, xq, ad, k / 32) : assay_dot_quantized_portable(type, row, xq, k); break;
            case Q4_K: value = dot_q4_K_avx2(row, xq, k / 256); break;
            case Q6_K: value = dot_q6_K_avx2(row, xq, k / 256); break;
            default: value = assay_dot_quantized_portable(type, row, xq, k); break;
            }
        }
        y[r - r0] = value;
    }
}

// MARK: - ggml short batches: weight rows unpacked once for several activation rows

// A short batch of quantized activation rows (2–32 prompt tokens with ggml numerics) went
// through assay_gemv once per (few weight rows, activation row): every weight block was unpacked
// again for each activation row, and the 32-value formats converted the row's activation scales
// again for every few weight rows. Here a weight row (a pair for Q4_0/Q4_1, as decode pairs them)
// is unpacked once per block for up to four activation rows, and the activation scales once per
// part. Each output is still decode's: the same integer sums (exact in any order) and the same
// float operations in the same order per (weight row, activation row) as the kernels above.

// A pair of weight rows as dot2_q4_0_avx2 / dot2_q4_1_avx2 compute them, against R activation
// rows (row r at xq + r·xq_row_bytes; outputs y[r·ldy] and y[r·ldy + 1]): 2·R multiply-add
// chains in flight. The activation rows' block values sit four rows side by side (`ad4[4i + r]`
// the block scale, `as4[4i + r]` the extra term's: Q4_0 ad·Σq, Q4_1 the q8_1 sum), so the scale
// products and the extra term take one 4-lane multiply for the four rows (the same rounding lane
// by lane as the scalar products of dot2_*).
AVX2 static inline __attribute__((always_inline)) void q4_pair_rows(int type, const uint8_t *w0, const uint8_t *w1, const uint8_t *xq,
                                                                      size_t xq_row_bytes, const float *ad4, const float *as4,
                                                                      int64_t blocks, float *y, int64_t ldy, const int R) {
    const int is_q4_0 = type == Q4_0, wb = is_q4_0 ? 18 : 20, ab = is_q4_0 ? 34 : 36, offset = is_q4_0 ? 2 : 4;
    __m256 acc0[4], acc1[4];
    const uint8_t *a[4];
    for (int r = 0; r < R; r++) {
        acc0[r] = acc1[r] = _mm256_setzero_ps();
        a[r] = xq + r * xq_row_bytes + offset;
    }
    __m128 extra0 = _mm_setzero_ps(), extra1 = _mm_setzero_ps();
    float s0[4], s1[4];
    for (int64_t i = 0; i < blocks; i++, w0 += wb, w1 += wb) {
        if (i % 4 == 0) { PREFETCH(w0); PREFETCH(w1); }
        __m256i n0 = nibbles(w0 + offset), n1 = nibbles(w1 + offset);
        __m128 d0, d1, e0, e1;
        if (is_q4_0) {
            d0 = e0 = _mm_set1_ps(half_f16c(w0));
            d1 = e1 = _mm_set1_ps(half_f16c(w1));
        } else {
            __m128 dm0 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w0))), dm1 = _mm_cvtph_ps(_mm_cvtsi32_si128((int)load_u32(w1)));
            d0 = _mm_shuffle_ps(dm0, dm0, 0x00);
            d1 = _mm_shuffle_ps(dm1, dm1, 0x00);
            e0 = _mm_shuffle_ps(dm0, dm0, 0x55);
            e1 = _mm_shuffle_ps(dm1, dm1, 0x55);
        }
        __m128 scales = _mm_loadu_ps(ad4 + 4 * i), sums = _mm_loadu_ps(as4 + 4 * i);
        _mm_storeu_ps(s0, _mm_mul_ps(d0, scales));
        _mm_storeu_ps(s1, _mm_mul_ps(d1, scales));
        extra0 = _mm_add_ps(extra0, _mm_mul_ps(e0, sums));
        extra1 = _mm_add_ps(extra1, _mm_mul_ps(e1, sums));
        for (int r = 0; r < R; r++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(a[r] + i * ab));
            acc0[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(s0 + r), dot_u8_i8(n0, v), acc0[r]);
            acc1[r] = _mm256_fmadd_ps(_mm256_broadcast_ss(s1 + r), dot_u8_i8(n1, v), acc1[r]);
        }
    }
    float e0[4], e1[4];
    _mm_storeu_ps(e0, extra0);
    _mm_storeu_ps(e1, extra1);
    for (int r = 0; r < R; r++) {
        if (is_q4_0) {
            y[r * ldy] = hsum(acc0[r]) - 8 * e0[r];
            y[r * ldy + 1] = hsum(acc1[r]) - 8 * e1[r];
        } else {
            y[r * ldy] = hsum(acc0[r]) + e0[r];
            y[r * ldy + 1] = hsum(acc1[r]) + e1[r];
        }
    }
}

// dot_q8_0_avx2 for one weight row against R activation rows: even blocks on one accumulator,
// odd on the other.
AVX2 static inline __attribute__((always_inline)) void q8_0_row(const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes, const float *ad4,
                                                                  int64_t blocks, float *y, int64_t ldy, const int R) {
    __m256 acc[4][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; i++, w += 34) {
        if (i % 2 == 0) PREFETCH(w);
        __m256i v = _mm256_loadu_si256((const __m256i *)(w + 2)), magnitude = _mm256_sign_epi8(v, v);
        __m256 dv = _mm256_set1_ps(half_f16c(w));
        for (int r = 0; r < R; r++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(xq + r * xq_row_bytes + i * 34 + 2));
            __m256 p = dot_u8_i8(magnitude, _mm256_sign_epi8(a, v));
            __m256 scale = _mm256_mul_ps(dv, _mm256_broadcast_ss(ad4 + 4 * i + r));
            if (i % 2 == 0) acc[r][0] = _mm256_fmadd_ps(scale, p, acc[r][0]);
            else acc[r][1] = _mm256_fmadd_ps(scale, p, acc[r][1]);
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
}

// dot_q4_K_avx2 for one weight row against R activation rows (q8_K, `xq_row_bytes` apart).
AVX2 static inline __attribute__((always_inline)) void q4_K_row(const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes, int64_t blocks,
                                                                  float *y, int64_t ldy, const int R) {
    float sum[4] = {0, 0, 0, 0};
    const __m256i low_mask = _mm256_set1_epi8(0x0F);
    for (int64_t i = 0; i < blocks; i++, w += 144) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128);
        __m256i scales, mins16;
        q4_K_scales(w, &scales, &mins16);
        __m256i scaled[4];
        for (int r = 0; r < R; r++) scaled[r] = _mm256_setzero_si256();
        for (int pair = 0; pair < 4; pair++) {
            __m256i bytes = _mm256_loadu_si256((const __m256i *)(w + 16 + pair * 32));
            __m256i low = _mm256_and_si256(bytes, low_mask), high = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low_mask);
            __m256i s0 = _mm256_shuffle_epi8(scales, word_picker(2 * pair)), s1 = _mm256_shuffle_epi8(scales, word_picker(2 * pair + 1));
            for (int r = 0; r < R; r++) {
                const int8_t *q = q8_K_values(xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES) + pair * 64;
                __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(low, _mm256_loadu_si256((const __m256i *)q)), s0);
                __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(high, _mm256_loadu_si256((const __m256i *)(q + 32))), s1);
                scaled[r] = _mm256_add_epi32(scaled[r], _mm256_add_epi32(p0, p1));
            }
        }
        // Group g's min meets the activations' sums 2g and 2g + 1 (int16 each).
        float d = half_f16c(w), dmin = half_f16c(w + 2);
        for (int r = 0; r < R; r++) {
            const uint8_t *a = xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES;
            int mins = hsum_epi32(_mm256_madd_epi16(mins16, _mm256_loadu_si256((const __m256i *)(a + 260))));
            float da = q8_K_scale(a);
            sum[r] += da * d * (float)hsum_epi32(scaled[r]) - da * dmin * (float)mins;
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = sum[r];
}

// dot_q6_K_avx2 for one weight row against R activation rows.
AVX2 static inline __attribute__((always_inline)) void q6_K_row(const uint8_t *w, const uint8_t *xq, size_t xq_row_bytes, int64_t blocks,
                                                                  float *y, int64_t ldy, const int R) {
    float sum[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < blocks; i++, w += 210) {
        PREFETCH(w); PREFETCH(w + 64); PREFETCH(w + 128); PREFETCH(w + 192);
        __m256i scales16, groups[2];
        q6_K_scales(w, &scales16, groups);
        __m256i scaled[4];
        for (int r = 0; r < R; r++) scaled[r] = _mm256_setzero_si256();
        for (int half = 0; half < 2; half++) {
            __m256i v[4];
            q6_K_values(w + half * 64, w + 128 + half * 32, v);
            for (int run = 0; run < 4; run++) {
                int e = half * 128 + run * 32;
                __m256i scale = q6_K_run_scales(groups[half], run);
                for (int r = 0; r < R; r++) {
                    const int8_t *q = q8_K_values(xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES);
                    __m256i pairs = _mm256_maddubs_epi16(v[run], _mm256_loadu_si256((const __m256i *)(q + e)));
                    scaled[r] = _mm256_add_epi32(scaled[r], _mm256_madd_epi16(pairs, scale));
                }
            }
        }
        // Σ_g scales[g] · (the activations' sum of group g), 16 int16 products in pairs.
        float d = half_f16c(w + 208);
        for (int r = 0; r < R; r++) {
            const uint8_t *a = xq + r * xq_row_bytes + i * ASSAY_Q8_K_BYTES;
            int offset = hsum_epi32(_mm256_madd_epi16(scales16, _mm256_loadu_si256((const __m256i *)(a + 260))));
            sum[r] += q8_K_scale(a) * d * (float)(hsum_epi32(scaled[r]) - 32 * offset);
        }
    }
    for (int r = 0; r < R; r++) y[r * ldy] = sum[r];
}

// Weight row `row` (and row + 1 for Q4_0/Q4_1) against R activation rows.
AVX2 static inline __attribute__((always_inline)) void quantized_rows(int type, const uint8_t *w, size_t row_bytes, int64_t k, int64_t row,
                                                                        const uint8_t *xq, size_t xq_row_bytes, const float *ad4,
                                                                        const float *as4, float *y, int64_t ldy, const int R) {
    const uint8_t *w0 = w + (size_t)row * row_bytes;
    switch (type) {
    case Q4_0: case Q4_1: q4_pair_rows(type, w0, w0 + row_bytes, xq, xq_row_bytes, ad4, as4, k / 32, y + row, ldy, R); break;
    case Q8_0: q8_0_row(w0, xq, xq_row_bytes, ad4, k / 32, y + row, ldy, R); break;
    case Q4_K: q4_K_row(w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    default: q6_K_row(w0, xq, xq_row_bytes, k / 256, y + row, ldy, R); break;
    }
}

AVX2 int assay_gemm_quantized_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                                   int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1) {
    int paired = type == Q4_0 || type == Q4_1, small_blocks = paired || type == Q8_0;
    if (!small_blocks && type != Q4_K && type != Q6_K) return 0;
    int64_t blocks = k / 32, groups = (m + 3) / 4;
    float *ad4 = NULL, *as4 = NULL;
    if (small_blocks) {
        // Longer rows take decode's portable products (assay_gemv_avx2): so do they here.
        if (blocks > SCALED_BLOCKS) return 0;
        // Each group of four activation rows: per block, the four rows' values side by side
        // (rows missing from the last group 0).
        size_t values = (size_t)groups * 4 * (size_t)(blocks ? blocks : 1);
        ad4 = calloc(paired ? 2 * values : values, sizeof(float));  // Q8_0 has no extra term
        if (!ad4) return 0;
        as4 = paired ? ad4 + values : NULL;
        int bytes = type == Q4_1 ? 36 : 34;
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        for (int64_t a = 0; a < m; a++)
            for (int64_t i = 0; i < blocks; i++) {
                const uint8_t *block = xq + a * xq_row_bytes + i * bytes;
                size_t at = (size_t)((a / 4) * blocks + i) * 4 + (size_t)(a % 4);
                float d = half_f16c(block);
                ad4[at] = d;
                if (type == Q4_1) as4[at] = half_f16c(block + 2);
                if (type == Q4_0) {
                    // Σ of the 32 int8 values (maddubs of ones and q: pairs summed exactly).
                    __m256i q = _mm256_loadu_si256((const __m256i *)(block + 2));
                    as4[at] = d * (float)hsum_epi32(_mm256_madd_epi16(_mm256_maddubs_epi16(ones8, q), ones16));
                }
            }
    }
    // About 16 KB of weight rows (an even count) meet every group of four activation rows while
    // they are in L1, so the weights are read from memory once.
    int64_t step = (int64_t)(16384 / (row_bytes ? row_bytes : 1)) & ~(int64_t)1;
    if (step < 2) step = 2;
    int width = paired ? 2 : 1;
    for (int64_t r = r0; r < r1; r += step) {
        int64_t end = r + step < r1 ? r + step : r1;
        for (int64_t a = 0; a < m; a += 4) {
            const uint8_t *x = xq + a * xq_row_bytes;
            const float *sa = ad4 ? ad4 + (a / 4) * blocks * 4 : NULL, *ss = as4 ? as4 + (a / 4) * blocks * 4 : NULL;
            float *out = y + a * ldy;
            // Q4_0 and Q4_1 rows go in decode's pairs (from an even row); a lone last row of an
            // odd count takes decode's one-row kernel, as in decode.
            int64_t row = r;
            for (; row + width <= end; row += width) {
                switch (m - a < 4 ? (int)(m - a) : 4) {
                case 4: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 4); break;
                case 3: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 3); break;
                case 2: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 2); break;
                default: quantized_rows(type, w, row_bytes, k, row, x, xq_row_bytes, sa, ss, out, ldy, 1); break;
                }
            }
            for (int64_t b = a; row < end && b < m && b < a + 4; b++)
                assay_gemv_avx2(type, w, row_bytes, k, NULL, xq + b * xq_row_bytes, y + b * ldy + row, row, end);
        }
    }
    free(ad4);
    return 1;
}

// MARK: - Exact short batches: dequantized tiles against every activation row

// Σ_k w[k]·x[k] as every pair of the tile product computes it, whatever the grouping: one
// 8-lane accumulator over k in steps of 8, then hsum, then the k % 8 tail in order.
AVX2 static inline float tile_dot(const float *w, const float *x, int64_t k) {
    __m256 acc = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(w + j), _mm256_loadu_ps(x + j), acc);
    float tail = 0;
    for (; j < k; j++) tail = fmaf(w[j], x[j], tail);
    return hsum(acc) + tail;
}

// Four weight rows against A (1–3) activation rows: 4·A accumulators, each the same sequence of
// multiply-adds as tile_dot's (so the outputs equal tile_dot's bit for bit), with every load
// shared by A or four of them. Inlined with a constant A, the arrays live in registers.
AVX2 static inline __attribute__((always_inline)) void tile_4xA(const float *w, const float *x, int64_t k, float *y, int64_t ldy,
                                                                  const int A) {
    __m256 c[4][3];
    for (int r = 0; r < 4; r++)
        for (int a = 0; a < A; a++) c[r][a] = _mm256_setzero_ps();
    int64_t j = 0;
    for (; j + 8 <= k; j += 8) {
        __m256 v[3];
        for (int a = 0; a < A; a++) v[a] = _mm256_loadu_ps(x + a * k + j);
        for (int r = 0; r < 4; r++) {
            __m256 b = _mm256_loadu_ps(w + r * k + j);
            for (int a = 0; a < A; a++) c[r][a] = _mm256_fmadd_ps(b, v[a], c[r][a]);
        }
    }
    for (int r = 0; r < 4; r++)
        for (int a = 0; a < A; a++) {
            float tail = 0;
            for (int64_t t = j; t < k; t++) tail = fmaf(w[r * k + t], x[a * k + t], tail);
            y[a * ldy + r] = hsum(c[r][a]) + tail;
        }
}

AVX2 void assay_gemm_tile_avx2(const float *tile, int64_t n, int64_t k, const float *x, int64_t m, float *y, int64_t ldy) {
    if (n != 4) {
        for (int64_t a = 0; a < m; a++)
            for (int64_t r = 0; r < n; r++) y[a * ldy + r] = tile_dot(tile + r * k, x + a * k, k);
        return;
    }
    int64_t a = 0;
    for (; a + 3 <= m; a += 3) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 3);
    if (m - a == 2) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 2);
    if (m - a == 1) tile_4xA(tile, x + a * k, k, y + a * ldy, ldy, 1);
}

// MARK: - Dequantization for tiles and panels

// Bytes 8·part … 8·part + 7 of `q` (part 0–3) as eight floats, read as int8 or uint8.
AVX2 static inline __m256 bytes_as_floats(__m256i q, int part, int is_signed) {
    __m128i half = part < 2 ? _mm256_castsi256_si128(q) : _mm256_extracti128_si256(q, 1);
    if (part & 1) half = _mm_srli_si128(half, 8);
    return _mm256_cvtepi32_ps(is_signed ? _mm256_cvtepi8_epi32(half) : _mm256_cvtepu8_epi32(half));
}

// Q4_0, Q4_1, Q8_0, Q4_K and Q6_K rows as f32, the same floats as dequantize_block's: q converted
// exactly, times the (sub-)block scale (one rounding), minus or plus the minimum where the format
// has one (a second rounding: multiply and add are not fused). A short batch dequantizes every
// weight once per product (pool.c, kind 3), so this runs near memory speed instead of the scalar
// loop's ~3 values a nanosecond. Returns 0 for other types.
AVX2 int assay_dequantize_row_avx2(int type, const uint8_t *b, float *y, int64_t k) {
    int size = block_size(type), bytes = block_bytes(type);
    if (size == 0 || k % size != 0) return 0;
    const __m256i low = _mm256_set1_epi8(0x0F);
    switch (type) {
    case Q4_0: case Q4_1: case Q8_0:
        for (int64_t i = 0; i < k / 32; i++, b += bytes, y += 32) {
            __m256 d = _mm256_set1_ps(half_f16c(b)), m = _mm256_set1_ps(type == Q4_1 ? half_f16c(b + 2) : 0);
            __m256i q = type == Q8_0 ? _mm256_loadu_si256((const __m256i *)(b + 2)) : nibbles(b + (type == Q4_0 ? 2 : 4));
            if (type == Q4_0) q = _mm256_sub_epi8(q, _mm256_set1_epi8(8));
            for (int p = 0; p < 4; p++) {
                __m256 v = _mm256_mul_ps(d, bytes_as_floats(q, p, 1));
                if (type == Q4_1) v = _mm256_add_ps(v, m);
                _mm256_storeu_ps(y + 8 * p, v);
            }
        }
        return 1;
    case Q4_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b), dmin = half_f16c(b + 2);
            for (int group = 0; group < 8; group++) {
                uint8_t sc, mn;
                scale_min_k4(b + 4, group, &sc, &mn);
                __m256 scale = _mm256_set1_ps(d * (float)sc), minimum = _mm256_set1_ps(dmin * (float)mn);
                __m256i q = _mm256_loadu_si256((const __m256i *)(b + 16 + (group / 2) * 32));
                q = _mm256_and_si256(group % 2 ? _mm256_srli_epi16(q, 4) : q, low);
                for (int p = 0; p < 4; p++)
                    _mm256_storeu_ps(y + group * 32 + 8 * p, _mm256_sub_ps(_mm256_mul_ps(scale, bytes_as_floats(q, p, 0)), minimum));
            }
        }
        return 1;
    case Q6_K:
        for (int64_t i = 0; i < k / 256; i++, b += bytes, y += 256) {
            float d = half_f16c(b + 208);
            const __m256i bias = _mm256_set1_epi8(32);
            for (int half = 0; half < 2; half++) {
                const int8_t *sc = (const int8_t *)(b + 192 + half * 8);
                __m256i q[4];
                q6_K_values(b + half * 64, b + 128 + half * 32, q);
                float *out = y + half * 128;
                for (int g = 0; g < 4; g++) {
                    __m256i v = _mm256_sub_epi8(q[g], bias);
                    // Values l < 16 take scale is = 2g, the rest 2g + 1 (the scalar loop's sc[is + 2g]).
                    for (int p = 0; p < 4; p++) {
                        __m256 scale = _mm256_set1_ps(d * (float)sc[2 * g + p / 2]);
                        _mm256_storeu_ps(out + 32 * g + 8 * p, _mm256_mul_ps(scale, bytes_as_floats(v, p, 1)));
                    }
                }
            }
        }
        return 1;
    default:
        return 0;
    }
}
#endif
