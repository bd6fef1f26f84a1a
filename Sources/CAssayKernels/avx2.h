// Inline helpers shared by the AVX2 + FMA + F16C kernel files (avx2_ggml.c, avx2_batches.c,
// avx2_exact.c, avx2_tiles.c): compiled for those features by function attribute, called only
// when the CPU has them (dispatch.c). Private to CAssayKernels.
#pragma once
#include "internal.h"

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

// The 32 bits of `bits` as 32 bytes, byte j 0xFF where bit j is set and 0 where it is not (the
// fifth bits of a Q5_0 or Q5_1 block, in nibbles' value order): bytes j…j+7 take byte j / 8 of
// `bits`, each ORed with every bit but its own, so only a set bit makes it all ones.
AVX2 static inline __m256i bit_bytes(uint32_t bits) {
    const __m256i spread = _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303);
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32((int)bits), spread);
    v = _mm256_or_si256(v, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFE));
    return _mm256_cmpeq_epi8(v, _mm256_set1_epi64x(-1));
}

// A Q5_0 or Q5_1 block's 32 values 0–31: the nibbles at `p` (16 bytes) with the fifth bits of
// `qh` (value j's bit j) as 16.
AVX2 static inline __m256i five_bits(const uint8_t *p, uint32_t qh) {
    return _mm256_or_si256(nibbles(p), _mm256_and_si256(bit_bytes(qh), _mm256_set1_epi8(0x10)));
}

// A Q5_K group's fifth bits: byte l of `qh` (the block's 32 bytes at 16) holds, in bit g, the
// fifth bit of group g's value l; as 16 in every byte where it is set, 0 elsewhere.
AVX2 static inline __m256i q5_K_high(__m256i qh, int g) {
    __m256i moved = g < 4 ? _mm256_slli_epi16(qh, 4 - g) : _mm256_srli_epi16(qh, g - 4);
    return _mm256_and_si256(moved, _mm256_set1_epi8(0x10));  // bits shifted across a byte boundary land off bit 4
}

// Run `run` (values 32·run … 32·run + 31) of a Q2_K or Q3_K block's 2-bit values as bytes 0–3:
// the 64 bytes at `qs` hold runs 0–3 in bit pairs 0–3 of bytes 0–31 and runs 4–7 in bytes 32–63.
AVX2 static inline __m256i two_bits(const uint8_t *qs, int run) {
    __m256i bytes = _mm256_loadu_si256((const __m256i *)(qs + (run / 4) * 32));
    return _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * (run % 4)), _mm256_set1_epi8(3));
}

// A Q3_K block's sixteen 6-bit scales less 32, as q3_K_scales gives them, unpacked together
// (ggml's 32-bit masks): the low 4 bits from bytes 96–103 (low nibbles scales 0–7, high nibbles
// 8–15), the high 2 bits from bytes 104–107 (bits 2j…2j+1 of byte i % 4 for scale i = 4j + …).
static inline __m128i q3_K_scale_bytes(const uint8_t *w) {
    uint32_t u[3], s[4];
    memcpy(u, w + 96, 12);
    s[0] = (u[0] & 0x0F0F0F0F) | (((u[2] >> 0) & 0x03030303) << 4);
    s[1] = (u[1] & 0x0F0F0F0F) | (((u[2] >> 2) & 0x03030303) << 4);
    s[2] = ((u[0] >> 4) & 0x0F0F0F0F) | (((u[2] >> 4) & 0x03030303) << 4);
    s[3] = ((u[1] >> 4) & 0x0F0F0F0F) | (((u[2] >> 6) & 0x03030303) << 4);
    __m128i packed;
    memcpy(&packed, s, 16);
    return _mm_sub_epi8(packed, _mm_set1_epi8(32));
}

// Q3_K's high bits (`hmask`, the block's first 32 bytes; bit `run` of byte l for value l of the
// run): 4 where the bit is clear, whose value is then the 2-bit value less 4, and 0 where it is set.
AVX2 static inline __m256i q3_K_fours(__m256i hmask, int run) {
    __m256i set = _mm256_and_si256(hmask, _mm256_set1_epi8((char)(1 << run)));
    return _mm256_and_si256(_mm256_cmpeq_epi8(set, _mm256_setzero_si256()), _mm256_set1_epi8(4));
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
// scales bound them, and gain since; so do avx2_exact_more.c's (the 5-bit types, Q2_K, Q3_K) and
// dot_exact_avx2's dequantizing loop (their fallback), but not the other fallbacks (exact_32,
// dot_exact_avx2's F32/F16/BF16 and 32-value loops). A prefetch past a matrix's end never faults.
#define PREFETCH_DISTANCE 8192
// The address is formed as an integer: a pointer past the end of the matrix would be undefined.
#define PREFETCH(p) _mm_prefetch((const char *)((uintptr_t)(p) + PREFETCH_DISTANCE), _MM_HINT_T0)

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

// A K-quant block's sixteen scales of 16 values as int16 (groups 0–7 in the low lane, 8–15 in the
// high one) spread to each half-block's eight in both lanes (`groups`, for q6_K_run_scales).
AVX2 static inline void half_block_scales(__m256i scales, __m256i groups[2]) {
    groups[0] = _mm256_permute2x128_si256(scales, scales, 0x00);
    groups[1] = _mm256_permute2x128_si256(scales, scales, 0x11);
}

// A Q6_K block's sixteen int8 scales as int16 (`scales`) and `groups` of them.
AVX2 static inline void q6_K_scales(const uint8_t *w, __m256i *scales, __m256i groups[2]) {
    *scales = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + 192)));
    half_block_scales(*scales, groups);
}

// The scales of a run of 32 (groups 2·run and 2·run + 1 of its half), one per 128-bit lane
// (Q6_K; Q2_K and Q3_K, whose runs have the same groups of 16).
AVX2 static inline __m256i q6_K_run_scales(__m256i groups, int run) {
    return _mm256_shuffle_epi8(groups, _mm256_set_m128i(_mm_set1_epi16((short)((4 * run + 2) | ((4 * run + 3) << 8))),
                                                        _mm_set1_epi16((short)((4 * run) | ((4 * run + 1) << 8)))));
}

// A Q2_K or Q3_K block's sixteen scales as int16, spread by half_block_scales to `groups`, and
// the int16 that meet Q8_K's sixteen sums of 16 in one madd (`paired`): Q2_K's minimums, Q3_K's
// scales (for its −4, below); Q3_K's high bits in `hmask`.
AVX2 static inline void q2_3_K_block(int type, const uint8_t *w, __m256i groups[2], __m256i *paired, __m256i *hmask) {
    if (type == Q2_K) {
        __m128i packed = _mm_loadu_si128((const __m128i *)w);
        half_block_scales(_mm256_cvtepu8_epi16(_mm_and_si128(packed, _mm_set1_epi8(0x0F))), groups);
        *paired = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(packed, 4), _mm_set1_epi8(0x0F)));
        *hmask = _mm256_setzero_si256();
    } else {
        *paired = _mm256_cvtepi8_epi16(q3_K_scale_bytes(w));
        half_block_scales(*paired, groups);
        *hmask = _mm256_loadu_si256((const __m256i *)w);
    }
}

// A Q2_K or Q3_K block's value against activation block `a` (q8_K) from its integer sum `scaled`
// (Σ_j sc_j · Σ q·y over the runs) and `paired` (q2_3_K_block's): Q2_K's minimums or Q3_K's 4s
// against the activations' sums of 16. Decode and the short batches both end a block here, so
// their outputs are the same bits.
AVX2 static inline float q2_3_K_block_value(int type, const uint8_t *w, const uint8_t *a, __m256i scaled, __m256i paired) {
    float da = q8_K_scale(a);
    __m256i sums = _mm256_madd_epi16(paired, _mm256_loadu_si256((const __m256i *)(a + 260)));
    if (type == Q2_K) return da * half_f16c(w + 80) * (float)hsum_epi32(scaled) - da * half_f16c(w + 82) * (float)hsum_epi32(sums);
    return da * half_f16c(w + 108) * (float)hsum_epi32(_mm256_sub_epi32(scaled, _mm256_slli_epi32(sums, 2)));
}

// Run `run` of a Q2_K or Q3_K block as unsigned bytes: Q2_K's 2-bit values; Q3_K's values plus
// 4 (the low bits, plus 4 where the high bit is set), whose 4s come off as 4 · Σ sc_j · Σy_j.
AVX2 static inline __m256i q2_3_K_run(int type, const uint8_t *w, __m256i hmask, int run) {
    __m256i low = two_bits(w + (type == Q2_K ? 16 : 32), run);
    if (type == Q2_K) return low;
    // Bit `run` of each byte moved to bit 2 (16-bit shifts: bits crossing into a neighbouring byte land off bit 2).
    __m256i moved = run < 2 ? _mm256_slli_epi16(hmask, 2 - run) : _mm256_srli_epi16(hmask, run - 2);
    return _mm256_or_si256(low, _mm256_and_si256(moved, _mm256_set1_epi8(4)));
}

// start + Σ over 32 weights of q·x as 8 lanes for 32 byte values (0–127: byte 3, masked in place,
// must leave the sign bit clear) whose dword i holds weights 4i…4i+3, `xt` the transposed
// activations (the 4-bit products' order and scaling: avx2_exact.c).
AVX2 static inline __m256 byte_products(__m256i u, const float *xt, __m256 start) {
    __m256 g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF))), _mm256_load_ps(xt), start);
    __m256 g1 = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF00))), _mm256_load_ps(xt + 8));
    g0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32(0xFF0000))), _mm256_load_ps(xt + 16), g0);
    g1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(u, _mm256_set1_epi32((int)0xFF000000u))), _mm256_load_ps(xt + 24), g1);
    return _mm256_add_ps(g0, g1);
}

// Most 32-value activation blocks whose scales are converted ahead (k ≤ 262,144); longer rows
// take the portable products.
#define SCALED_BLOCKS 8192
#endif
