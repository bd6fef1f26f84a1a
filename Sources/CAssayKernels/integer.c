// Integer matrix products for long batches with quantized activations (`ggml` numerics, prefill):
// weights times activations in integers, as ggml's kernels multiply them, with one weight row in
// each int32 lane of a vector, so that each lane ends a block holding one output's whole integer
// sum — one conversion and one multiply-add per block and output, where decode's kernels spend a
// horizontal sum per output.
//
// A group of L weight rows (16 with AVX-512 VNNI, 8 with AVX2) is unpacked once, GROUPS_AT_ONCE
// groups at a time, and meets every activation row, up to 8 (AVX-512) or 4 (AVX2) at a time.
// 4-bit and 6-bit values are unpacked into bytes, four values of a row side by side, so one
// vector holds four values of each of the L rows: vpmaddubsw multiplies them by four activation
// bytes broadcast to every row (32 multiply-adds an instruction at 256 bits, where f32 sgemm's FMA
// does 8), a few such products add up in 16 bits, and one vpmaddwd widens them — against ones, or
// against the rows' sub-block scales (Q4_K, Q6_K), which multiplies each row's sum by its own scale
// on the way. With AVX-512 VNNI, 32-value blocks (Q4_0, Q4_1, and Q8_0 stored as q + 128) go
// through vpdpbusd, which adds four byte products into an int32 in one instruction. Q8_0's signed
// bytes on AVX2 are widened to int16 pairs and go through vpmaddwd alone. The kernel itself is
// integer_kernel.h, included once per vector width.
//
// Every output is one chain over the blocks in order, from 0, each block's integer sum exact:
//   Q4_0, Q8_0:  acc = fma(d_w · d_a, Σ q·a, acc)
//   Q4_1:        acc = fma(d_w · d_a, Σ q·a, acc); acc = fma(m_w, s_a, acc)
//   Q4_K:        acc = fma(d_w · d_a, Σ_j sc_j Σ q·a, acc); acc = fma(−(dmin_w · d_a), Σ_j m_j Σa_j, acc)
//   Q6_K:        acc = fma(d_w · d_a, Σ_j sc_j (Σ q·a − 32 Σa_j), acc)
// (q the stored value, a the activation's int8, d_a its block scale, s_a q8_1's stored sum, Σa_j
// q8_K's stored sums) — the same float operations in the AVX-512, AVX2 and portable kernels, so
// the same bits whichever runs, however the rows are split across threads and whichever
// activation rows share the batch. ggml's one-row kernels spread a block's sum over eight lanes
// first, so a row's outputs differ from decode's in the last bits.
#include "internal.h"

#include <stdlib.h>

// Only where SIMD kernels run (or the portable ones are forced, for tests): the portable kernel
// unpacks every block once per activation row, far slower than sgemm on dequantized panels.
int assay_integer_gemm_type(int type) {
    return (type == Q4_0 || type == Q4_1 || type == Q8_0 || type == Q4_K || type == Q6_K) &&
           (assay_integer_lanes() > 0 || assay_portable_forced());
}

static inline int k_quant(int type) { return type == Q4_K || type == Q6_K; }
// The activation blocks: q8_0 holds d (f16) then 32 values; q8_1 d, s = d·Σq, then the values;
// q8_K d (f32), 256 values, then 16 sums of 16.
static inline int activation_bytes(int type) { return k_quant(type) ? ASSAY_Q8_K_BYTES : type == Q4_1 ? 36 : 34; }
static inline int activation_values(int type) { return type == Q4_1 || k_quant(type) ? 4 : 2; }
static inline int64_t values_per_block(int type) { return k_quant(type) ? 256 : 32; }
// The 32-bit terms each activation block has besides its scale (assay_integer_terms).
static inline int64_t extra_terms(int type) {
    switch (type) {
    case Q8_0: return 17;  // its 32 values as int16 pairs, then 128·Σq
    case Q4_K: return 4;   // its sums of 32, two to a term
    case Q6_K: return 8;   // its sums of 16, two to a term
    default: return 1;     // Q4_0: 8·Σq; Q4_1: s
    }
}

size_t assay_integer_terms_bytes(int type, int64_t m, int64_t k) {
    return (size_t)m * (size_t)(k / values_per_block(type)) * (size_t)(1 + extra_terms(type)) * sizeof(float);
}

// A group of L rows (L = 8 with AVX2, 16 with AVX-512) unpacked, block by block; "a vector" is L
// int32 lanes (4·L bytes), row r's part of it at bytes 4r … 4r + 3. Rows missing from the last group are zeros.
//   Q4_0, Q4_1: eight vectors of values 0–15 (vector s holds values 4s … 4s + 3 of each row);
//     then L floats d (and for Q4_1 L floats m).
//   Q8_0 with 16 lanes: as Q4_0, the values stored as q + 128 (0–255). With 8 lanes: sixteen
//     vectors of int16 (vector t holds values 2t, 2t + 1 of row r in its lanes 2r, 2r + 1); then L floats d.
//   Q4_K: eight sub-blocks of 32 values as a Q4_0 block's vectors; per sub-block a vector of int16
//     holding the rows' scales (row r's in lanes 2r and 2r + 1); per pair of sub-blocks one of their
//     minimums (m_2p of row r in lane 2r, m_2p+1 in 2r + 1); L floats d, L dmin.
//   Q6_K: sixteen sub-blocks of 16 values 0–63, four vectors each; per sub-block a vector of the
//     rows' scales; per pair of sub-blocks one of both (sc_2p in lane 2r, sc_2p+1 in 2r + 1); L floats d.
static inline size_t group_block_bytes(int type, int L) {
    switch (type) {
    case Q4_1: return 40 * (size_t)L;
    case Q8_0: return (L == 16 ? 36 : 68) * (size_t)L;
    case Q4_K: return 312 * (size_t)L;
    case Q6_K: return 356 * (size_t)L;
    default: return 36 * (size_t)L;
    }
}
// Where a group block's floats d start.
static inline size_t group_scales_offset(int type, int L) {
    switch (type) {
    case Q8_0: return (L == 16 ? 32 : 64) * (size_t)L;
    case Q4_K: return 304 * (size_t)L;
    case Q6_K: return 352 * (size_t)L;
    default: return 32 * (size_t)L;
    }
}
// Groups unpacked at once: 4 activation rows meet 32 weight rows (AVX2), 8 meet 64 (AVX-512),
// while they are in cache (at k = 5632 up to 383 KB unpacked, Q8_0 at 8 lanes; about 500 KB at 16).
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
            case Q4_0: {
                int32_t sum = 0;
                for (int j = 0; j < 32; j++) sum += q8[j];
                extra[0] = (uint32_t)(8 * sum);
                break;
            }
            case Q4_1: memcpy(extra, &(float){load_half(block + 2)}, 4); break;
            case Q8_0: {
                int32_t sum = 0;
                for (int t = 0; t < 16; t++) {
                    extra[t] = (uint16_t)(int16_t)q8[2 * t] | (uint32_t)(uint16_t)(int16_t)q8[2 * t + 1] << 16;
                    sum += q8[2 * t] + q8[2 * t + 1];
                }
                extra[16] = (uint32_t)(128 * sum);
                break;
            }
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

size_t assay_integer_scratch_bytes(int type, int lanes, int64_t k) {
    return GROUPS_AT_ONCE * (size_t)(k / values_per_block(type)) * group_block_bytes(type, lanes);
}

// MARK: - AVX2 and AVX-512

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

// Eight rows' vectors (v[r]: 8 dwords of row r) stored as eight steps, `stride` bytes apart, at `out`.
AVX2 INLINE void store_steps(__m256i v[8], uint8_t *out, size_t stride) {
    transpose_dwords(v);
    for (int s = 0; s < 8; s++) _mm256_storeu_si256((__m256i *)(out + stride * s), v[s]);
}

// Rows `n` (≤ L) of `w` unpacked into a group of L rows (the layouts above), `blocks` blocks.
AVX2 static void pack_group(int type, int L, const uint8_t *w, size_t row_bytes, int64_t blocks, int n, uint8_t *group) {
    const __m256i low = _mm256_set1_epi8(0x0F);
    const size_t gb = group_block_bytes(type, L), vec = 4 * (size_t)L;
    const int wb = block_bytes(type);
    for (int64_t i = 0; i < blocks; i++) {
        uint8_t *out = group + i * gb;
        float *d = (float *)(out + group_scales_offset(type, L)), *second = d + L;
        // Eight rows at a time (`half`: rows 8·half …), each into its 32 bytes of every vector.
        for (int half = 0; half < L / 8; half++) {
            const uint8_t *row[8];
            for (int r = 0; r < 8; r++) row[r] = 8 * half + r < n ? w + (size_t)(8 * half + r) * row_bytes + i * wb : NULL;
            uint8_t *part = out + 32 * half;
            if (type == Q4_0 || type == Q4_1 || (type == Q8_0 && L == 16)) {
                __m256i v[8];
                for (int r = 0; r < 8; r++) {
                    int at = 8 * half + r;
                    d[at] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
                    if (type == Q4_1) second[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + 2)) : 0;
                    if (!row[r]) {
                        v[r] = _mm256_setzero_si256();
                    } else if (type == Q8_0) {
                        v[r] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row[r] + 2)), _mm256_set1_epi8((char)0x80));
                    } else {
                        // Values 0–15 from the low nibbles, 16–31 from the high ones (ggml's order).
                        __m128i bytes = _mm_loadu_si128((const __m128i *)(row[r] + (type == Q4_1 ? 4 : 2)));
                        v[r] = _mm256_and_si256(_mm256_inserti128_si256(_mm256_castsi128_si256(bytes), _mm_srli_epi16(bytes, 4), 1), low);
                    }
                }
                store_steps(v, part, vec);
            } else if (type == Q8_0) {
                __m256i lo[8], hi[8];
                for (int r = 0; r < 8; r++) {
                    __m256i q = row[r] ? _mm256_loadu_si256((const __m256i *)(row[r] + 2)) : _mm256_setzero_si256();
                    lo[r] = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(q));
                    hi[r] = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(q, 1));
                    d[8 * half + r] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
                }
                store_steps(lo, part, vec);
                store_steps(hi, part + 8 * vec, vec);
            } else if (type == Q4_K) {
                int16_t *scales = (int16_t *)(out + 256 * L), *mins = (int16_t *)(out + 288 * L);
                for (int r = 0; r < 8; r++) {
                    int at = 8 * half + r;
                    for (int j = 0; j < 8; j++) {
                        uint8_t sc = 0, mn = 0;
                        if (row[r]) scale_min_k4(row[r] + 4, j, &sc, &mn);
                        scales[2 * L * j + 2 * at] = scales[2 * L * j + 2 * at + 1] = sc;
                        mins[2 * L * (j / 2) + 2 * at + j % 2] = mn;
                    }
                    d[at] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
                    second[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + 2)) : 0;
                }
                for (int pair = 0; pair < 4; pair++) {
                    __m256i lo[8], hi[8];
                    for (int r = 0; r < 8; r++) {
                        __m256i q = row[r] ? _mm256_loadu_si256((const __m256i *)(row[r] + 16 + 32 * pair)) : _mm256_setzero_si256();
                        lo[r] = _mm256_and_si256(q, low);
                        hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                    }
                    store_steps(lo, part + (2 * pair) * 8 * vec, vec);
                    store_steps(hi, part + (2 * pair + 1) * 8 * vec, vec);
                }
            } else {
                int16_t *scales = (int16_t *)(out + 256 * L), *pairs = (int16_t *)(out + 320 * L);
                for (int r = 0; r < 8; r++) {
                    int at = 8 * half + r;
                    for (int j = 0; j < 16; j++) {
                        int16_t sc = row[r] ? (int8_t)row[r][192 + j] : 0;
                        scales[2 * L * j + 2 * at] = scales[2 * L * j + 2 * at + 1] = sc;
                        pairs[2 * L * (j / 2) + 2 * at + j % 2] = sc;
                    }
                    d[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + 208)) : 0;
                }
                // Runs of 32 values (two sub-blocks): run 4·h + t of q6_K_values.
                __m256i runs[8][8];
                for (int r = 0; r < 8; r++)
                    for (int h = 0; h < 2; h++) {
                        if (row[r]) {
                            q6_K_values(row[r] + h * 64, row[r] + 128 + h * 32, runs[r] + 4 * h);
                        } else {
                            for (int t = 0; t < 4; t++) runs[r][4 * h + t] = _mm256_setzero_si256();
                        }
                    }
                for (int run = 0; run < 8; run++) {
                    __m256i v[8];
                    for (int r = 0; r < 8; r++) v[r] = runs[r][run];
                    store_steps(v, part + run * 8 * vec, vec);
                }
            }
        }
    }
}

// The kernel at 256 bits (AVX2: eight rows a group).
#define LANES 8
#define MAXNC 4
#define TARGET AVX2
#define SUFFIX(name) name##_avx2
#define DPBUSD 0
#define VI __m256i
#define VF __m256
#define V_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define V_SET1(x) _mm256_set1_epi32((int)(x))
#define V_ZERO() _mm256_setzero_si256()
#define V_MADDUBS(a, b) _mm256_maddubs_epi16(a, b)
#define V_MADD(a, b) _mm256_madd_epi16(a, b)
#define V_ADD16(a, b) _mm256_add_epi16(a, b)
#define V_ADD32(a, b) _mm256_add_epi32(a, b)
#define V_SUB32(a, b) _mm256_sub_epi32(a, b)
#define V_SLLI32(a, n) _mm256_slli_epi32(a, n)
#define V_DPBUSD(acc, a, b) (acc)
#define F_ZERO() _mm256_setzero_ps()
#define F_LOAD(p) _mm256_loadu_ps((const float *)(p))
#define F_STORE(p, v) _mm256_storeu_ps(p, v)
#define F_SET1(x) _mm256_set1_ps(x)
#define F_MUL(a, b) _mm256_mul_ps(a, b)
#define F_FMADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define F_FNMADD(a, b, c) _mm256_fnmadd_ps(a, b, c)
#define F_CVT(a) _mm256_cvtepi32_ps(a)
#include "integer_kernel.h"
#undef LANES
#undef MAXNC
#undef TARGET
#undef SUFFIX
#undef DPBUSD
#undef VI
#undef VF
#undef V_LOAD
#undef V_SET1
#undef V_ZERO
#undef V_MADDUBS
#undef V_MADD
#undef V_ADD16
#undef V_ADD32
#undef V_SUB32
#undef V_SLLI32
#undef V_DPBUSD
#undef F_ZERO
#undef F_LOAD
#undef F_STORE
#undef F_SET1
#undef F_MUL
#undef F_FMADD
#undef F_FNMADD
#undef F_CVT

// The kernel at 512 bits (AVX-512 with VNNI: sixteen rows a group).
#define AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#define LANES 16
#define MAXNC 8
#define TARGET AVX512
#define SUFFIX(name) name##_avx512
#define DPBUSD 1
#define VI __m512i
#define VF __m512
#define V_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define V_SET1(x) _mm512_set1_epi32((int)(x))
#define V_ZERO() _mm512_setzero_si512()
#define V_MADDUBS(a, b) _mm512_maddubs_epi16(a, b)
#define V_MADD(a, b) _mm512_madd_epi16(a, b)
#define V_ADD16(a, b) _mm512_add_epi16(a, b)
#define V_ADD32(a, b) _mm512_add_epi32(a, b)
#define V_SUB32(a, b) _mm512_sub_epi32(a, b)
#define V_SLLI32(a, n) _mm512_slli_epi32(a, n)
#define V_DPBUSD(acc, a, b) _mm512_dpbusd_epi32(acc, a, b)
#define F_ZERO() _mm512_setzero_ps()
#define F_LOAD(p) _mm512_loadu_ps((const float *)(p))
#define F_STORE(p, v) _mm512_storeu_ps(p, v)
#define F_SET1(x) _mm512_set1_ps(x)
#define F_MUL(a, b) _mm512_mul_ps(a, b)
#define F_FMADD(a, b, c) _mm512_fmadd_ps(a, b, c)
#define F_FNMADD(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define F_CVT(a) _mm512_cvtepi32_ps(a)
#include "integer_kernel.h"

int assay_integer_lanes(void) {
    if (assay_simd_level() < 1) return 0;
    return assay_avx512_level() >= 2 ? 16 : 8;
}

void assay_gemm_integer_rows_simd(int lanes, int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                                  const float *terms, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1, uint8_t *scratch) {
    if (lanes == 16)
        integer_rows_avx512(type, w, row_bytes, k, xq, xq_row_bytes, terms, m, y, ldy, r0, r1, scratch);
    else
        integer_rows_avx2(type, w, row_bytes, k, xq, xq_row_bytes, terms, m, y, ldy, r0, r1, scratch);
}
#else
int assay_integer_lanes(void) { return 0; }
#endif
