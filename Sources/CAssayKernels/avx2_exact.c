// Exact numerics on AVX2 for one activation row (decode): f32 activations against the weights
// factorized by block (d·Σq·x + m·Σx), see docs/engine.md.
#include "avx2.h"

#include <pthread.h>
#include <stdlib.h>

#if ASSAY_X86
AVX2 static float dot_exact_avx2(int type, const uint8_t *w, const float *x, int64_t k) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    int64_t j = 0;
    if (type == F32 || type == F16 || type == BF16) {
        for (; j + 16 <= k; j += 16) {
            __m256 w0, w1;
            if (type == F32) {
                w0 = _mm256_loadu_ps((const float *)w + j);
                w1 = _mm256_loadu_ps((const float *)w + j + 8);
            } else if (type == BF16) {  // a bf16 is the high half of its f32
                const __m128i *h = (const __m128i *)((const uint16_t *)w + j);
                w0 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(h)), 16));
                w1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(h + 1)), 16));
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
            if (type == F16) value = half_to_float(load_u16(w + 2 * j));
            else dequantize_block(type, w + (type == F32 ? 4 : 2) * j, &value);
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
    // Other types (Q5_0, Q5_1, Q2_K, Q3_K, Q5_K), when avx2_exact_more.c cannot take them (rows
    // longer than SCALED_BLOCKS, or no memory for the transposed activations): up to 256 values
    // dequantized into a buffer (with AVX2, as the panels are), then multiply-adds.
    int size = block_size(type), bytes = block_bytes(type);
    float buffer[256];
    float tail = 0;
    for (int64_t start = 0; start < k; start += 256) {
        int n = (int)(k - start < 256 ? k - start : 256);
        const uint8_t *blocks = w + (start / size) * bytes;
        PREFETCH(blocks); PREFETCH(blocks + 64); PREFETCH(blocks + 128);  // 256 values: 176 bytes or fewer
        if (n % size != 0 || !assay_dequantize_row_avx2(type, blocks, buffer, n))
            for (int b = 0; b < n / size; b++) dequantize_block(type, blocks + b * bytes, buffer + b * size);
        int i = 0;
        for (; i + 16 <= n; i += 16) {
            acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(buffer + i), _mm256_loadu_ps(x + start + i), acc0);
            acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(buffer + i + 8), _mm256_loadu_ps(x + start + i + 8), acc1);
        }
        for (; i < n; i++) tail = fmaf(buffer[i], x[start + i], tail);
    }
    return hsum(_mm256_add_ps(acc0, acc1)) + tail;
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
static _Thread_local buffer_t scratch, memo[MEMO_ROWS], limbs;
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
    free(limbs.data);
    limbs = (buffer_t){NULL, 0};
    for (int j = 0; j < MEMO_ROWS; j++) {
        free(memo[j].data);
        memo[j] = (buffer_t){NULL, 0};
    }
}
static void make_buffers_key(void) { pthread_key_create(&buffers_key, free_buffers); }

// `b` holding at least `size` floats, 64-byte aligned (NULL when no memory is left).
static float *reserve(buffer_t *b, int64_t size) {
    if (size > b->capacity) {
        float *grown = aligned_alloc(64, (size_t)((size + 15) / 16) * 64);
        if (!grown) return NULL;
        pthread_once(&buffers_once, make_buffers_key);
        pthread_setspecific(buffers_key, (void *)1);
        free(b->data);
        b->data = grown;
        b->capacity = size;
    }
    return b->data;
}

// After the transposed values, `offset` times each block's lane sums of the unscaled activations
// (t[8j + i] = offset · Σ_s x[32j + 4i + s]): Q4_0 (offset −8) and Q6_K (−32) start each block's
// products from them, Q4_1 (1) adds m times them.
static float *fill(buffer_t *b, const float *x, int64_t k, float offset) {
    if (!reserve(b, k + k / 4)) return NULL;
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


AVX2 void assay_gemv_exact_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const float *x, float *y, int64_t r0,
                                int64_t r1) {
    // Q4_0, Q4_1, Q4_K, Q5_K and Q6_K with AVX-512 VNNI and VBMI: the activations split into 8-bit limbs for
    // integer products (avx512_exact.c), unless a value cannot be carried.
    size_t split = assay_exact_prepared_bytes(type, k);
    if (split) {
        float *g = reserve(&limbs, (int64_t)(split / sizeof(float)));
        if (g && assay_exact_prepare_avx512(type, k, x, g)) {
            assay_exact_rows_avx512_prepared(type, w, row_bytes, k, g, y, r0, r1);
            return;
        }
    }
    // Σ x per 32 values, for the factorized kernels.
    float as[SCALED_BLOCKS];
    int summed = (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q8_0 || type == Q2_K || type == Q3_K ||
                  type == Q4_K || type == Q5_K || type == Q6_K) && k / 32 <= SCALED_BLOCKS;
    if (summed) {
        for (int64_t i = 0; i < k / 32; i++) {
            __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_loadu_ps(x + 32 * i), _mm256_loadu_ps(x + 32 * i + 8)),
                                     _mm256_add_ps(_mm256_loadu_ps(x + 32 * i + 16), _mm256_loadu_ps(x + 32 * i + 24)));
            as[i] = hsum(v);
        }
    }
    const float *xt = summed ? transpose_groups(x, k, type == Q4_0 ? -8.0f : type == Q5_0 ? -16.0f : type == Q3_K ? -4.0f : type == Q6_K ? -32.0f : 1.0f) : NULL;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + (size_t)r * row_bytes;
        float value;
        switch (summed ? type : -1) {
        case Q4_0: case Q4_1: value = xt ? exact_4bit(type, row, xt, k / 32) : exact_32(type, row, x, as, k / 32); break;
        case Q5_0: case Q5_1: value = xt ? assay_exact_more_avx2(type, row, xt, as, k / 32) : dot_exact_avx2(type, row, x, k); break;
        case Q2_K: case Q3_K: case Q5_K: value = xt ? assay_exact_more_avx2(type, row, xt, as, k / 256) : dot_exact_avx2(type, row, x, k); break;
        case Q8_0: value = xt ? exact_q8_0(row, xt, k / 32) : exact_32(type, row, x, as, k / 32); break;
        case Q4_K: value = xt ? exact_q4_K(row, xt, as, k / 256) : dot_exact_avx2(type, row, x, k); break;
        case Q6_K: value = xt ? exact_q6_K(row, xt, k / 256) : dot_exact_avx2(type, row, x, k); break;
        default: value = dot_exact_avx2(type, row, x, k); break;
        }
        y[r - r0] = value;
    }
}
#endif
