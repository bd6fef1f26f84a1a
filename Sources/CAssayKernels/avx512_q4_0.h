// Q4_0 (and Q4_1) weights unpacked for the AVX-512 VNNI kernels (avx512_ggml.c for quantized
// activations, avx512_exact.c for f32 ones): shared so that both read a group of four blocks the same way.
// Private to CAssayKernels.
#pragma once
#include "avx2.h"

#if ASSAY_X86
#define AVX512_Q4_0 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))
// The cache line `offset` bytes past `p`, 4 KB ahead (computed as an integer: past the end of the
// matrix it is no pointer into it, and a prefetch there is harmless).
#define AHEAD(p, offset) _mm_prefetch((const char *)((uintptr_t)(p) + 4096 + (offset)), _MM_HINT_T0)

// Groups of four blocks in a row of `blocks` (the last may hold fewer).
static inline int64_t groups_of(int64_t blocks) { return (blocks + 3) / 4; }

// Group `i` of a Q4_0 or Q4_1 weight row `w` (its four blocks: 72 or 80 bytes at w + 72·i or
// 80·i; the row has `blocks` blocks): the nibbles as bytes, lane l (bytes 4·l … 4·l + 3) holding
// block l % 4's values 4·(l / 4) … 4·(l / 4) + 3 (`low`) or 16 more (`high`), the four scales d,
// block l % 4's in lane l (`d`), and for Q4_1 the four mins m in lanes 0–3 (`m`). Blocks past
// the row's last are read as zeros.
AVX512_Q4_0 static inline __attribute__((always_inline)) void q4_unpack(const int type, const uint8_t *w, int64_t i, int64_t blocks,
                                                                         __m512i *low, __m512i *high, __m512 *d, __m128 *m) {
    // Byte j of the gathered nibbles: block (j / 4) % 4's byte 4·(j / 16) + j % 4, at 18 (20) times
    // the block + 2 (4) + that of the group's bytes (bytes 64 on from the second table). Word j of
    // the scales: block j % 4's d (and for Q4_1, words 0–3 of the mins: each block's m).
    const __m512i gather =
        type == Q4_0 ? _mm512_set_epi8(71, 70, 69, 68, 53, 52, 51, 50, 35, 34, 33, 32, 17, 16, 15, 14,  //
                                       67, 66, 65, 64, 49, 48, 47, 46, 31, 30, 29, 28, 13, 12, 11, 10,  //
                                       63, 62, 61, 60, 45, 44, 43, 42, 27, 26, 25, 24, 9, 8, 7, 6,      //
                                       59, 58, 57, 56, 41, 40, 39, 38, 23, 22, 21, 20, 5, 4, 3, 2)
                     : _mm512_set_epi8(79, 78, 77, 76, 59, 58, 57, 56, 39, 38, 37, 36, 19, 18, 17, 16,  //
                                       75, 74, 73, 72, 55, 54, 53, 52, 35, 34, 33, 32, 15, 14, 13, 12,  //
                                       71, 70, 69, 68, 51, 50, 49, 48, 31, 30, 29, 28, 11, 10, 9, 8,    //
                                       67, 66, 65, 64, 47, 46, 45, 44, 27, 26, 25, 24, 7, 6, 5, 4);
    const __m512i scales = type == Q4_0 ? _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                                           27, 18, 9, 0, 27, 18, 9, 0, 27, 18, 9, 0, 27, 18, 9, 0)
                                        : _mm512_set_epi16(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 31, 21, 11, 1,  //
                                                           30, 20, 10, 0, 30, 20, 10, 0, 30, 20, 10, 0, 30, 20, 10, 0);
    const __m512i mask = _mm512_set1_epi8(0x0F);
    const int bytes = type == Q4_0 ? 18 : 20;
    const uint8_t *p = w + 4 * bytes * i;
    __m512i first, second;
    if (4 * i + 4 <= blocks) {
        first = _mm512_loadu_si512((const void *)p);
        second = type == Q4_0 ? _mm512_zextsi128_si512(_mm_loadl_epi64((const __m128i *)(p + 64)))
                              : _mm512_zextsi128_si512(_mm_loadu_si128((const __m128i *)(p + 64)));
    } else {
        // The row's last one, two or three blocks: nothing read past them.
        int64_t count = (blocks - 4 * i) * bytes;
        first = _mm512_maskz_loadu_epi8(((__mmask64)1 << count) - 1, p);
        second = _mm512_setzero_si512();
    }
    __m512i q = _mm512_permutex2var_epi8(first, gather, second);
    *low = _mm512_and_si512(q, mask);
    *high = _mm512_and_si512(_mm512_srli_epi16(q, 4), mask);
    __m512i words = _mm512_permutexvar_epi16(scales, first);
    *d = _mm512_cvtph_ps(_mm512_castsi512_si256(words));
    if (type == Q4_1) *m = _mm_cvtph_ps(_mm512_castsi512_si128(_mm512_shuffle_i64x2(words, words, 2)));
}

// Four blocks' 16-byte halves (`halves[b]`, block b's) side by side, lane 4·b + q (values 4·q …
// 4·q + 3 of block b) moved to lane 4·q + b: the lanes q4_unpack gives the weights.
AVX512_Q4_0 static inline __m512i q4_0_lanes(const __m128i halves[4]) {
    const __m512i transpose = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
    __m512i side = _mm512_inserti32x4(_mm512_castsi128_si512(halves[0]), halves[1], 1);
    side = _mm512_inserti32x4(_mm512_inserti32x4(side, halves[2], 2), halves[3], 3);
    return _mm512_permutexvar_epi32(transpose, side);
}
#endif
