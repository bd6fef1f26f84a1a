// The integer GEMM's layouts (integer.c, integer_portable.c, integer_kernel.h): activation
// blocks, their extra terms, and the unpacked groups of weight rows. Private to CAssayKernels.
#pragma once
#include "internal.h"

static inline int k_quant(int type) { return type == Q2_K || type == Q3_K || type == Q4_K || type == Q5_K || type == Q6_K; }
// Q5_0, Q5_1 and Q5_K take Q4_0's, Q4_1's and Q4_K's layouts and chains with values 0–31.
static inline int five_bit(int type) { return type == Q5_0 || type == Q5_1 || type == Q5_K; }
static inline int q8_1_activations(int type) { return type == Q4_1 || type == Q5_1; }
// The activation blocks: q8_0 holds d (f16) then 32 values; q8_1 d, s = d·Σq, then the values;
// q8_K d (f32), 256 values, then 16 sums of 16.
static inline int activation_bytes(int type) { return k_quant(type) ? ASSAY_Q8_K_BYTES : q8_1_activations(type) ? 36 : 34; }
static inline int activation_values(int type) { return q8_1_activations(type) || k_quant(type) ? 4 : 2; }
static inline int64_t values_per_block(int type) { return k_quant(type) ? 256 : 32; }
// The 32-bit terms each activation block has besides its scale (assay_integer_terms).
static inline int64_t extra_terms(int type) {
    switch (type) {
    case Q8_0: return 17;  // its 32 values as int16 pairs, then 128·Σq
    case Q4_K: case Q5_K: return 4;  // its sums of 32, two to a term
    case Q2_K: case Q3_K: case Q6_K: return 8;  // its sums of 16, two to a term
    default: return 1;               // Q4_0: 8·Σq; Q5_0: 16·Σq; Q4_1, Q5_1: s
    }
}

// A group of L rows (L = 8 with AVX2, 16 with AVX-512) unpacked, block by block; "a vector" is L
// int32 lanes (4·L bytes), row r's part of it at bytes 4r … 4r + 3. Rows missing from the last group are zeros.
//   Q4_0, Q4_1: eight vectors of values 0–15 (vector s holds values 4s … 4s + 3 of each row);
//     then L floats d (and for Q4_1 L floats m). Q5_0, Q5_1 the same with values 0–31.
//   Q8_0 with 16 lanes: as Q4_0, the values stored as q + 128 (0–255). With 8 lanes: sixteen
//     vectors of int16 (vector t holds values 2t, 2t + 1 of row r in its lanes 2r, 2r + 1); then L floats d.
//   Q4_K: eight sub-blocks of 32 values as a Q4_0 block's vectors; per sub-block a vector of int16
//     holding the rows' scales (row r's in lanes 2r and 2r + 1); per pair of sub-blocks one of their
//     minimums (m_2p of row r in lane 2r, m_2p+1 in 2r + 1); L floats d, L dmin. Q5_K the same
//     with values 0–31.
//   Q6_K: sixteen sub-blocks of 16 values 0–63, four vectors each; per sub-block a vector of the
//     rows' scales; per pair of sub-blocks one of both (sc_2p in lane 2r, sc_2p+1 in 2r + 1); L floats d.
//     Q3_K the same with values 0–7 (the low bits, plus 4 where the high bit is set) and its
//     scales less 32. Q2_K the same with values 0–3 and its 4-bit scales, the pair vectors holding
//     its 4-bit minimums (m_2p, m_2p+1), then L floats d and L dmin.
static inline size_t group_block_bytes(int type, int L) {
    switch (type) {
    case Q4_1: case Q5_1: return 40 * (size_t)L;
    case Q8_0: return (L == 16 ? 36 : 68) * (size_t)L;
    case Q4_K: case Q5_K: return 312 * (size_t)L;
    case Q3_K: case Q6_K: return 356 * (size_t)L;
    case Q2_K: return 360 * (size_t)L;
    default: return 36 * (size_t)L;
    }
}
// Where a group block's floats d start.
static inline size_t group_scales_offset(int type, int L) {
    switch (type) {
    case Q8_0: return (L == 16 ? 32 : 64) * (size_t)L;
    case Q4_K: case Q5_K: return 304 * (size_t)L;
    case Q2_K: case Q3_K: case Q6_K: return 352 * (size_t)L;
    default: return 32 * (size_t)L;
    }
}
// Groups unpacked at once: 4 activation rows meet 32 weight rows (AVX2), 8 meet 64 (AVX-512),
// while they are in cache (at k = 5632 up to 383 KB unpacked, Q8_0 at 8 lanes; about 500 KB at 16).
#define GROUPS_AT_ONCE 4
