// Integer matrix products for long batches with quantized activations (`ggml` numerics, prefill):
// weights times activations in integers, as ggml's kernels multiply them, with eight weight rows
// in the eight lanes of a vector so that each lane ends a block holding one output's whole
// integer sum — one conversion and one multiply-add per block and output, where decode's kernels
// spend a horizontal sum per output.
//
// A group of eight weight rows is unpacked once (GROUPS_AT_ONCE groups at a time) and meets every
// activation row, four at a time. 4-bit and 6-bit values are unpacked into bytes, four values of
// a row next to each other, so one 32-byte load holds four values of each of the eight rows:
// vpmaddubsw multiplies them by four activation bytes broadcast to every row (32 multiply-adds an
// instruction, where f32 sgemm's FMA does 8), a few such products add up in 16 bits, and one
// vpmaddwd widens them — against ones, or against the rows' sub-block scales (Q4_K, Q6_K), which
// multiplies each row's sum by its own scale on the way. Q8_0's signed bytes are widened to int16
// pairs and go through vpmaddwd alone (16 multiply-adds an instruction).
//
// Every output is one chain over the blocks in order, from 0, each block's integer sum exact:
//   Q4_0, Q8_0:  acc = fma(d_w · d_a, Σ q·a, acc)
//   Q4_1:        acc = fma(d_w · d_a, Σ q·a, acc); acc = fma(m_w, s_a, acc)
//   Q4_K:        acc = fma(d_w · d_a, Σ_j sc_j Σ q·a, acc); acc = fma(−(dmin_w · d_a), Σ_j m_j Σa_j, acc)
//   Q6_K:        acc = fma(d_w · d_a, Σ_j sc_j Σ (q − 32)·a, acc)
// (q the stored value, a the activation's int8, d_a its block scale, s_a q8_1's stored sum) —
// the same float operations in the AVX2 and the portable kernels, so the same bits whichever
// runs, however the rows are split across threads and whichever activation rows share the batch.
// ggml's one-row kernels spread a block's sum over eight lanes first, so a row's outputs differ
// from decode's in the last bits, as ggml's own repacked GEMMs' do.
#include "internal.h"

#include <stdlib.h>

int assay_integer_gemm_type(int type) { return type == Q4_0 || type == Q4_1 || type == Q8_0 || type == Q4_K || type == Q6_K; }

static inline int k_quant(int type) { return type == Q4_K || type == Q6_K; }
// The activation blocks: q8_0 holds d (f16) then 32 values; q8_1 d, s = d·Σq, then the values;
// q8_K d (f32), 256 values, then 16 sums of 16.
static inline int activation_bytes(int type) { return k_quant(type) ? ASSAY_Q8_K_BYTES : type == Q4_1 ? 36 : 34; }
static inline int activation_values(int type) { return type == Q4_1 || k_quant(type) ? 4 : 2; }
static inline int64_t values_per_block(int type) { return k_quant(type) ? 256 : 32; }
// The 32-bit terms each activation block has besides its scale (assay_integer_terms).
static inline int64_t extra_terms(int type) {
    switch (type) {
    case Q8_0: return 16;  // its 32 values as int16
    case Q4_K: return 4;   // its sums of 32, two to a term
    case Q6_K: return 8;   // its sums of 16, two to a term
    default: return 1;     // Q4_0: 8·Σq; Q4_1: s
    }
}

size_t assay_integer_terms_bytes(int type, int64_t m, int64_t k) {
    return (size_t)m * (size_t)(k / values_per_block(type)) * (size_t)(1 + extra_terms(type)) * sizeof(float);
}

// A group of eight rows unpacked, block by block. Rows missing from the last group are zeros.
//   Q4_0, Q4_1: 256 bytes of values 0–15 in eight steps (step s holds values 4s … 4s + 3 of row
//     r at bytes 32·s + 4·r); then 8 floats d (and for Q4_1 8 floats m).
//   Q8_0: 512 bytes of int16 in sixteen steps (step t holds values 2t, 2t + 1 of row r in lanes
//     2r, 2r + 1); then 8 floats d.
//   Q4_K: eight sub-blocks of 32 values as a Q4_0 block's steps (2048 bytes); per sub-block an
//     int16 vector of the rows' scales (row r's in lanes 2r and 2r + 1); per pair of sub-blocks
//     one of their minimums (m_2p of row r in lane 2r, m_2p+1 in 2r + 1); 8 floats d, 8 dmin.
//   Q6_K: sixteen sub-blocks of 16 values 0–63 in four steps each (2048 bytes); per sub-block an
//     int16 vector of the rows' scales; per pair of sub-blocks one of both (sc_2p in lane 2r,
//     sc_2p+1 in 2r + 1); 8 floats d.
#define Q4_K_GROUP_BLOCK 2496
#define Q6_K_GROUP_BLOCK 2848
static inline size_t group_block_bytes(int type) {
    switch (type) {
    case Q4_1: return 320;
    case Q8_0: return 544;
    case Q4_K: return Q4_K_GROUP_BLOCK;
    case Q6_K: return Q6_K_GROUP_BLOCK;
    default: return 288;
    }
}
// Groups of eight weight rows unpacked at once: four activation rows meet 32 weight rows (up to
// 200 KB unpacked at k = 5632) while they are in cache.
#define GROUPS_AT_ONCE 4

// MARK: - Portable

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

// One output's chain (see the top of this file) over `blocks` blocks of row `w` and activation row `x`.
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
        } else if (type == Q8_0) {
            for (int j = 0; j < 32; j++) sum += (int8_t)b[2 + j] * q8[j];
            acc = fmaf(load_half(b) * load_half(a), (float)sum, acc);
        } else if (type == Q4_K) {
            int mins = 0;
            for (int j = 0; j < 8; j++) {
                uint8_t sc, mn;
                scale_min_k4(b + 4, j, &sc, &mn);
                const uint8_t *q = b + 16 + (j / 2) * 32;
                int part = 0;
                for (int l = 0; l < 32; l++) part += ((q[l] >> (4 * (j % 2))) & 0x0F) * q8[32 * j + l];
                sum += sc * part;
                mins += mn * (q8_K_sum(a, 2 * j) + q8_K_sum(a, 2 * j + 1));
            }
            float da = q8_K_scale(a);
            acc = fmaf(load_half(b) * da, (float)sum, acc);
            acc = fmaf(-(load_half(b + 2) * da), (float)mins, acc);
        } else {
            int q[256];
            q6_K_block_values(b, q);
            for (int j = 0; j < 16; j++) {
                int part = 0;
                for (int l = 0; l < 16; l++) part += (q[16 * j + l] - 32) * q8[16 * j + l];
                sum += (int8_t)b[192 + j] * part;
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
            case Q4_0: {
                int32_t sum = 0;
                for (int j = 0; j < 32; j++) sum += q8[j];
                extra[0] = (uint32_t)(8 * sum);
                break;
            }
            case Q4_1: memcpy(extra, &(float){load_half(block + 2)}, 4); break;
            case Q8_0:
                for (int t = 0; t < 16; t++) extra[t] = (uint16_t)(int16_t)q8[2 * t] | (uint32_t)(uint16_t)(int16_t)q8[2 * t + 1] << 16;
                break;
            case Q4_K:
                for (int p = 0; p < 4; p++) {
                    uint16_t even = (uint16_t)(q8_K_sum(block, 4 * p) + q8_K_sum(block, 4 * p + 1));
                    uint16_t odd = (uint16_t)(q8_K_sum(block, 4 * p + 2) + q8_K_sum(block, 4 * p + 3));
                    extra[p] = (uint32_t)even | (uint32_t)odd << 16;
                }
                break;
            case Q6_K:
                for (int p = 0; p < 8; p++)
                    extra[p] = (uint32_t)(uint16_t)q8_K_sum(block, 2 * p) | (uint32_t)(uint16_t)q8_K_sum(block, 2 * p + 1) << 16;
                break;
            }
        }
}

size_t assay_integer_scratch_bytes(int type, int64_t k) {
    return GROUPS_AT_ONCE * (size_t)(k / values_per_block(type)) * group_block_bytes(type);
}

// MARK: - AVX2

#if ASSAY_X86
#define AVX2 ASSAY_AVX2
#define INLINE static inline __attribute__((always_inline))

// Eight rows of 8 dwords transposed: v[s] becomes dword s of every row (row r in dword r).
AVX2 INLINE void transpose_dwords(__m256i v[8]) {
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    // u[0..3] hold dwords 0–3 of rows 0–3 in the low lane and dwords 4–7 in the high one; u[4..7] rows 4–7.
    for (int i = 0; i < 4; i++) {
        v[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
        v[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
    }
}

// Eight rows' vectors (v[r]: 8 dwords of row r) stored as eight steps of 32 bytes at `out`.
AVX2 INLINE void store_steps(__m256i v[8], uint8_t *out) {
    transpose_dwords(v);
    for (int s = 0; s < 8; s++) _mm256_storeu_si256((__m256i *)(out + 32 * s), v[s]);
}

// Rows `n` (≤ 8) of `w` unpacked into a group (the layouts above), `blocks` blocks.
AVX2 static void pack_group(int type, const uint8_t *w, size_t row_bytes, int64_t blocks, int n, uint8_t *group) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    int wb = block_bytes(type);
    size_t gb = group_block_bytes(type);
    for (int64_t i = 0; i < blocks; i++) {
        uint8_t *out = group + i * gb;
        const uint8_t *row[8];
        for (int r = 0; r < 8; r++) row[r] = r < n ? w + (size_t)r * row_bytes + i * wb : NULL;
        if (type == Q4_0 || type == Q4_1) {
            __m256i v[8];
            float *d = (float *)(out + 256), *mins = type == Q4_1 ? d + 8 : NULL;
            for (int r = 0; r < 8; r++) {
                if (mins) mins[r] = row[r] ? _cvtsh_ss(load_u16(row[r] + 2)) : 0;
                if (!row[r]) {
                    v[r] = _mm256_setzero_si256();
                    d[r] = 0;
                    continue;
                }
                // Values 0–15 from the low nibbles, 16–31 from the high ones (ggml's order).
                __m128i bytes = _mm_loadu_si128((const __m128i *)(row[r] + (type == Q4_1 ? 4 : 2)));
                v[r] = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(bytes), _mm_srli_epi16(bytes, 4), 1), low);
                d[r] = _cvtsh_ss(load_u16(row[r]));
            }
            store_steps(v, out);
        } else if (type == Q8_0) {
            __m256i lo[8], hi[8];
            float *d = (float *)(out + 512);
            for (int r = 0; r < 8; r++) {
                __m256i q = row[r] ? _mm256_loadu_si256((const __m256i *)(row[r] + 2)) : _mm256_setzero_si256();
                lo[r] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
                hi[r] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
                d[r] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
            }
            store_steps(lo, out);
            store_steps(hi, out + 256);
        } else if (type == Q4_K) {
            int16_t *scales = (int16_t *)(out + 2048), *mins = (int16_t *)(out + 2304);
            float *d = (float *)(out + 2432), *dmin = d + 8;
            for (int r = 0; r < 8; r++) {
                for (int j = 0; j < 8; j++) {
                    uint8_t sc = 0, mn = 0;
                    if (row[r]) scale_min_k4(row[r] + 4, j, &sc, &mn);
                    scales[16 * j + 2 * r] = scales[16 * j + 2 * r + 1] = sc;
                    mins[16 * (j / 2) + 2 * r + j % 2] = mn;
                }
                d[r] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
                dmin[r] = row[r] ? _cvtsh_ss(load_u16(row[r] + 2)) : 0;
            }
            for (int pair = 0; pair < 4; pair++) {
                __m256i lo[8], hi[8];
                for (int r = 0; r < 8; r++) {
                    __m256i q = row[r] ? _mm256_loadu_si256((const __m256i *)(row[r] + 16 + 32 * pair)) : _mm256_setzero_si256();
                    lo[r] = _mm256_and_si256(q, low);
                    hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                }
                store_steps(lo, out + (2 * pair) * 256);
                store_steps(hi, out + (2 * pair + 1) * 256);
            }
        } else {
            int16_t *scales = (int16_t *)(out + 2048), *pairs = (int16_t *)(out + 2560);
            float *d = (float *)(out + 2816);
            for (int r = 0; r < 8; r++) {
                for (int j = 0; j < 16; j++) {
                    int16_t sc = row[r] ? (int8_t)row[r][192 + j] : 0;
                    scales[16 * j + 2 * r] = scales[16 * j + 2 * r + 1] = sc;
                    pairs[16 * (j / 2) + 2 * r + j % 2] = sc;
                }
                d[r] = row[r] ? _cvtsh_ss(load_u16(row[r] + 208)) : 0;
            }
            // Runs of 32 values (two sub-blocks): run 4·half + t of q6_K_values.
            __m256i runs[8][8];
            for (int r = 0; r < 8; r++)
                for (int half = 0; half < 2; half++) {
                    if (row[r]) {
                        q6_K_values(row[r] + half * 64, row[r] + 128 + half * 32, runs[r] + 4 * half);
                    } else {
                        for (int t = 0; t < 4; t++) runs[r][4 * half + t] = _mm256_setzero_si256();
                    }
                }
            for (int run = 0; run < 8; run++) {
                __m256i v[8];
                for (int r = 0; r < 8; r++) v[r] = runs[r][run];
                store_steps(v, out + run * 256);
            }
        }
    }
}

// `NC` activation rows' broadcasts of four bytes at `offset` of their block multiplied by the
// weight bytes at `weights`, added to `sums` (int16) or, with `first`, stored there.
AVX2 INLINE void byte_products(int NC, __m256i sums[4], const uint8_t *weights, const uint8_t *const x[4], size_t offset, int first) {
    __m256i wv = _mm256_loadu_si256((const __m256i *)weights);
    for (int c = 0; c < NC; c++) {
        __m256i p = _mm256_maddubs_epi16(wv, _mm256_set1_epi32((int)load_u32(x[c] + offset)));
        sums[c] = first ? p : _mm256_add_epi16(sums[c], p);
    }
}

// The outputs of `NC` activation rows (eight rows' each, `n` of them kept) stored.
AVX2 INLINE void store_outputs(int NC, const __m256 acc[4], float *y, int64_t ldy, int64_t a0, int n) {
    for (int c = 0; c < NC; c++) {
        float *out = y + (a0 + c) * ldy;
        if (n == 8) {
            _mm256_storeu_ps(out, acc[c]);
        } else {
            float lanes[8];
            _mm256_storeu_ps(lanes, acc[c]);
            memcpy(out, lanes, (size_t)n * sizeof(float));
        }
    }
}

// Activation rows a0 … a0 + NC − 1 against one group: eight outputs of each, written to
// y[(a0 + c) · ldy + r] for r < n. `terms` are assay_integer_terms' for all `m` rows.
AVX2 INLINE void group_columns(int type, int NC, const uint8_t *group, int64_t blocks, const uint8_t *xq, size_t xq_row_bytes,
                               const float *terms, int64_t m, int64_t a0, float *y, int64_t ldy, int n) {
    const int ab = activation_bytes(type);
    const int64_t extras = extra_terms(type);
    const size_t gb = group_block_bytes(type);
    const float *ad = terms + a0 * blocks;
    const uint32_t *ex = (const uint32_t *)(terms + m * blocks) + a0 * blocks * extras;
    const uint8_t *x[4];
    __m256 acc[4];
    for (int c = 0; c < NC; c++) {
        x[c] = xq + (size_t)(a0 + c) * xq_row_bytes + activation_values(type);
        acc[c] = _mm256_setzero_ps();
    }
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *g = group + i * gb;
        __m256i sums[4];
        if (type == Q4_0 || type == Q4_1) {
            // Eight steps of pairs ≤ 2 · 15 · 128 = 3840: at most 30,720, inside int16.
            __m256i part[4];
            for (int s = 0; s < 8; s++) byte_products(NC, part, g + 32 * s, x, (size_t)(i * ab + 4 * s), s == 0);
            for (int c = 0; c < NC; c++) {
                sums[c] = _mm256_madd_epi16(part[c], ones);
                if (type == Q4_0) sums[c] = _mm256_sub_epi32(sums[c], _mm256_set1_epi32((int)ex[(c * blocks + i) * extras]));
            }
        } else if (type == Q8_0) {
            for (int t = 0; t < 16; t++) {
                __m256i wv = _mm256_loadu_si256((const __m256i *)(g + 32 * t));
                for (int c = 0; c < NC; c++) {
                    __m256i p = _mm256_madd_epi16(wv, _mm256_set1_epi32((int)ex[(c * blocks + i) * extras + t]));
                    sums[c] = t == 0 ? p : _mm256_add_epi32(sums[c], p);
                }
            }
        } else if (type == Q4_K) {
            for (int j = 0; j < 8; j++) {
                __m256i part[4];
                for (int s = 0; s < 8; s++) byte_products(NC, part, g + 256 * j + 32 * s, x, (size_t)(i * ab + 32 * j + 4 * s), s == 0);
                __m256i scale = _mm256_loadu_si256((const __m256i *)(g + 2048 + 32 * j));
                for (int c = 0; c < NC; c++) {
                    __m256i p = _mm256_madd_epi16(part[c], scale);
                    sums[c] = j == 0 ? p : _mm256_add_epi32(sums[c], p);
                }
            }
        } else {
            // Values ≤ 63: pairs ≤ 2 · 63 · 128 = 16,128, so two steps (half a sub-block) add up in int16.
            for (int j = 0; j < 16; j++) {
                __m256i scale = _mm256_loadu_si256((const __m256i *)(g + 2048 + 32 * j));
                for (int h = 0; h < 2; h++) {
                    __m256i part[4];
                    for (int s = 0; s < 2; s++)
                        byte_products(NC, part, g + 128 * j + 64 * h + 32 * s, x, (size_t)(i * ab + 16 * j + 8 * h + 4 * s), s == 0);
                    for (int c = 0; c < NC; c++) {
                        __m256i p = _mm256_madd_epi16(part[c], scale);
                        sums[c] = j == 0 && h == 0 ? p : _mm256_add_epi32(sums[c], p);
                    }
                }
            }
        }
        __m256 dw = _mm256_loadu_ps((const float *)(g + gb - (type == Q4_1 || type == Q4_K ? 64 : 32)));
        for (int c = 0; c < NC; c++) {
            const uint32_t *e = ex + (c * blocks + i) * extras;
            __m256 da = _mm256_set1_ps(ad[c * blocks + i]);
            if (type == Q6_K) {
                // Σ_j sc_j · 32 · Σa_j: the rows' scales two sub-blocks at a time against the sums of 16.
                __m256i offset = _mm256_setzero_si256();
                for (int p = 0; p < 8; p++)
                    offset = _mm256_add_epi32(offset, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(g + 2560 + 32 * p)),
                                                                        _mm256_set1_epi32((int)e[p])));
                sums[c] = _mm256_sub_epi32(sums[c], _mm256_slli_epi32(offset, 5));
            }
            acc[c] = _mm256_fmadd_ps(_mm256_mul_ps(dw, da), _mm256_cvtepi32_ps(sums[c]), acc[c]);
            if (type == Q4_1) {
                float s;
                memcpy(&s, e, 4);
                acc[c] = _mm256_fmadd_ps(_mm256_loadu_ps((const float *)(g + 288)), _mm256_set1_ps(s), acc[c]);
            } else if (type == Q4_K) {
                __m256i mins = _mm256_setzero_si256();
                for (int p = 0; p < 4; p++)
                    mins = _mm256_add_epi32(mins, _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(g + 2304 + 32 * p)),
                                                                    _mm256_set1_epi32((int)e[p])));
                __m256 dmin = _mm256_loadu_ps((const float *)(g + 2464));
                acc[c] = _mm256_fnmadd_ps(_mm256_mul_ps(dmin, da), _mm256_cvtepi32_ps(mins), acc[c]);
            }
        }
    }
    store_outputs(NC, acc, y, ldy, a0, n);
}

// group_columns compiled for each type and count of activation rows.
#define COLUMNS(TYPE, NAME)                                                                                                             \
    AVX2 static void NAME(int nc, const uint8_t *group, int64_t blocks, const uint8_t *xq, size_t xs, const float *terms, int64_t m, \
                          int64_t a0, float *y, int64_t ldy, int n) {                                                                   \
        switch (nc) {                                                                                                                   \
        case 4: group_columns(TYPE, 4, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                          \
        case 3: group_columns(TYPE, 3, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                          \
        case 2: group_columns(TYPE, 2, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                          \
        default: group_columns(TYPE, 1, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                         \
        }                                                                                                                               \
    }
COLUMNS(Q4_0, columns_q4_0)
COLUMNS(Q4_1, columns_q4_1)
COLUMNS(Q8_0, columns_q8_0)
COLUMNS(Q4_K, columns_q4_K)
COLUMNS(Q6_K, columns_q6_K)

AVX2 void assay_gemm_integer_rows_avx2(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                                       const float *terms, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1, uint8_t *scratch) {
    int64_t blocks = k / values_per_block(type);
    size_t stride = (size_t)blocks * group_block_bytes(type);
    void (*columns)(int, const uint8_t *, int64_t, const uint8_t *, size_t, const float *, int64_t, int64_t, float *, int64_t, int) =
        type == Q4_0 ? columns_q4_0 : type == Q4_1 ? columns_q4_1 : type == Q8_0 ? columns_q8_0 : type == Q4_K ? columns_q4_K : columns_q6_K;
    for (int64_t r = r0; r < r1; r += 8 * GROUPS_AT_ONCE) {
        int64_t rows = r1 - r < 8 * GROUPS_AT_ONCE ? r1 - r : 8 * GROUPS_AT_ONCE;
        int groups = (int)((rows + 7) / 8);
        for (int g = 0; g < groups; g++)
            pack_group(type, w + (size_t)(r + 8 * g) * row_bytes, row_bytes, blocks, rows - 8 * g < 8 ? (int)(rows - 8 * g) : 8,
                       scratch + g * stride);
        for (int64_t a = 0; a < m; a += 4)
            for (int g = 0; g < groups; g++)
                columns(m - a < 4 ? (int)(m - a) : 4, scratch + g * stride, blocks, xq, xq_row_bytes, terms, m, a, y + r + 8 * g, ldy,
                        rows - 8 * g < 8 ? (int)(rows - 8 * g) : 8);
    }
}
#endif
