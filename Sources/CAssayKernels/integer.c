// Integer matrix products for long batches with quantized activations (`ggml` numerics, prefill):
// weights times activations in integers, as ggml's kernels multiply them, with one weight row in
// each int32 lane of a vector, so that each lane ends a block holding one output's whole integer
// sum — one conversion and one multiply-add per block and output, where decode's kernels spend a
// horizontal sum per output.
//
// A group of L weight rows (16 with AVX-512 VNNI, 8 with AVX2) is unpacked once, GROUPS_AT_ONCE
// groups at a time, and meets every activation row, up to 8 (AVX-512) or 4 (AVX2) at a time.
// 2- to 6-bit values are unpacked into bytes, four values of a row side by side, so one
// vector holds four values of each of the L rows: vpmaddubsw multiplies them by four activation
// bytes broadcast to every row (32 multiply-adds an instruction at 256 bits, where f32 sgemm's FMA
// does 8), a few such products add up in 16 bits, and one vpmaddwd widens them — against ones, or
// against the rows' sub-block scales (the K-quants), which multiplies each row's sum by its own
// scale on the way. With AVX-512 VNNI, 32-value blocks (Q4_0, Q4_1, Q5_0, Q5_1, and Q8_0 stored
// as q + 128) go through vpdpbusd, which adds four byte products into an int32 in one
// instruction. Q8_0's signed
// bytes on AVX2 are widened to int16 pairs and go through vpmaddwd alone. The kernel itself is
// integer_kernel.h, included once per vector width.
//
// Every output is one chain over the blocks in order, from 0, each block's integer sum exact:
//   Q4_0, Q5_0, Q8_0:  acc = fma(d_w · d_a, Σ q·a, acc)
//   Q4_1, Q5_1:  acc = fma(d_w · d_a, Σ q·a, acc); acc = fma(m_w, s_a, acc)
//   Q4_K, Q5_K:  acc = fma(d_w · d_a, Σ_j sc_j Σ q·a, acc); acc = fma(−(dmin_w · d_a), Σ_j m_j Σa_j, acc)
//   Q6_K:        acc = fma(d_w · d_a, Σ_j sc_j (Σ q·a − 32 Σa_j), acc)
//   Q3_K:        acc = fma(d_w · d_a, Σ_j sc_j (Σ q·a − 4 Σa_j), acc)  (q the value + 4, sc the scale − 32)
//   Q2_K:        acc = fma(d_w · d_a, Σ_j sc_j Σ q·a, acc); acc = fma(−(dmin_w · d_a), Σ_j m_j Σa_j, acc)
// (q the stored value, a the activation's int8, d_a its block scale, s_a q8_1's stored sum, Σa_j
// q8_K's stored sums) — the same float operations in the AVX-512, AVX2 and portable kernels, so
// the same bits whichever runs, however the rows are split across threads and whichever
// activation rows share the batch. ggml's one-row kernels spread a block's sum over eight lanes
// first, so a row's outputs differ from decode's in the last bits.
#include "avx2.h"
#include "integer_layout.h"

#include <stdlib.h>

// MARK: - AVX2 and AVX-512

#if ASSAY_X86
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
            if (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || (type == Q8_0 && L == 16)) {
                __m256i v[8];
                for (int r = 0; r < 8; r++) {
                    int at = 8 * half + r;
                    d[at] = row[r] ? _cvtsh_ss(load_u16(row[r])) : 0;
                    if (type == Q4_1 || type == Q5_1) second[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + 2)) : 0;
                    if (!row[r]) {
                        v[r] = _mm256_setzero_si256();
                    } else if (type == Q8_0) {
                        v[r] = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(row[r] + 2)), _mm256_set1_epi8((char)0x80));
                    } else if (type == Q5_0 || type == Q5_1) {
                        int qh = type == Q5_0 ? 2 : 4;  // the fifth bits, then the nibbles
                        v[r] = five_bits(row[r] + qh + 4, load_u32(row[r] + qh));
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
            } else if (type == Q4_K || type == Q5_K) {
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
                        const int values = type == Q4_K ? 16 : 48;
                        __m256i q = row[r] ? _mm256_loadu_si256((const __m256i *)(row[r] + values + 32 * pair)) : _mm256_setzero_si256();
                        lo[r] = _mm256_and_si256(q, low);
                        hi[r] = _mm256_and_si256(_mm256_srli_epi16(q, 4), low);
                        if (type == Q5_K && row[r]) {
                            __m256i high = _mm256_loadu_si256((const __m256i *)(row[r] + 16));
                            lo[r] = _mm256_or_si256(lo[r], q5_K_high(high, 2 * pair));
                            hi[r] = _mm256_or_si256(hi[r], q5_K_high(high, 2 * pair + 1));
                        }
                    }
                    store_steps(lo, part + (2 * pair) * 8 * vec, vec);
                    store_steps(hi, part + (2 * pair + 1) * 8 * vec, vec);
                }
            } else if (type == Q2_K || type == Q3_K) {
                int16_t *scales = (int16_t *)(out + 256 * L), *pairs = (int16_t *)(out + 320 * L);
                for (int r = 0; r < 8; r++) {
                    int at = 8 * half + r;
                    int8_t q3[16] = {0};
                    if (row[r] && type == Q3_K) q3_K_scales(row[r], q3);
                    for (int j = 0; j < 16; j++) {
                        // Q2_K: the scale in the low nibble, the minimum in the high one. Q3_K: the scale twice.
                        int16_t sc = !row[r] ? 0 : type == Q2_K ? (row[r][j] & 0x0F) : q3[j];
                        int16_t paired = !row[r] ? 0 : type == Q2_K ? (row[r][j] >> 4) : q3[j];
                        scales[2 * L * j + 2 * at] = scales[2 * L * j + 2 * at + 1] = sc;
                        pairs[2 * L * (j / 2) + 2 * at + j % 2] = paired;
                    }
                    d[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + (type == Q2_K ? 80 : 108))) : 0;
                    if (type == Q2_K) second[at] = row[r] ? _cvtsh_ss(load_u16(row[r] + 82)) : 0;
                }
                // Runs of 32 values (two sub-blocks); Q3_K's plus 4 where the high bit is set.
                for (int run = 0; run < 8; run++) {
                    __m256i v[8];
                    for (int r = 0; r < 8; r++) {
                        if (!row[r]) {
                            v[r] = _mm256_setzero_si256();
                            continue;
                        }
                        v[r] = q2_3_K_run(type, row[r], _mm256_loadu_si256((const __m256i *)row[r]), run);
                    }
                    store_steps(v, part + run * 8 * vec, vec);
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
