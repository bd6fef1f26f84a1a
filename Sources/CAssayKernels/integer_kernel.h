// The integer GEMM's inner kernel (integer.c), written once for a vector width: integer.c
// includes this file twice, with 256-bit vectors (AVX2: eight rows a group) and with 512-bit ones
// (AVX-512 VNNI: sixteen rows a group, and vpdpbusd for 32-value blocks, which multiplies four
// bytes and adds them to an int32 in one instruction). It expects, for the width:
//   LANES          rows a group (the int32 lanes of a vector)
//   TARGET         the function attribute that compiles for the width's instructions
//   SUFFIX(name)   the width's name for a function
//   DPBUSD         1 when vpdpbusd multiplies the 32-value blocks (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 as bytes + 128)
//   MAXNC          activation rows a kernel call takes (4 with 16 registers, 8 with 32)
//   VI, VF         the integer and float vector types, and the V_… / F_… operations below.
// Every lane's arithmetic is the same at both widths (exact integer sums, then the same float
// operations per output), so both give the same bits as the portable chain.

// `NC` activation rows' broadcasts of four bytes at `offset` of their block multiplied by the
// weight bytes at `weights`, added to `sums` (int16) or, with `first`, stored there.
TARGET INLINE void SUFFIX(byte_products)(int NC, VI sums[MAXNC], const uint8_t *weights, const uint8_t *const x[MAXNC], size_t offset, int first) {
    VI wv = V_LOAD(weights);
    for (int c = 0; c < NC; c++) {
        VI p = V_MADDUBS(wv, V_SET1(load_u32(x[c] + offset)));
        sums[c] = first ? p : V_ADD16(sums[c], p);
    }
}

// Activation rows a0 … a0 + NC − 1 (NC ≤ MAXNC) against one group: LANES outputs of each, written to
// y[(a0 + c) · ldy + r] for r < n. `terms` are assay_integer_terms' for all `m` rows.
TARGET INLINE void SUFFIX(group_columns)(int type, int NC, const uint8_t *group, int64_t blocks, const uint8_t *xq,
                                         size_t xq_row_bytes, const float *terms, int64_t m, int64_t a0, float *y, int64_t ldy,
                                         int n) {
    const int ab = activation_bytes(type), L = LANES;
    const int64_t extras = extra_terms(type);
    const size_t gb = group_block_bytes(type, LANES);
    const float *ad = terms + a0 * blocks;
    const uint32_t *ex = (const uint32_t *)(terms + m * blocks) + a0 * blocks * extras;
    const uint8_t *x[MAXNC];
    VF acc[MAXNC];
    for (int c = 0; c < NC; c++) {
        x[c] = xq + (size_t)(a0 + c) * xq_row_bytes + activation_values(type);
        acc[c] = F_ZERO();
    }
    const VI ones = V_SET1(0x00010001);
    for (int64_t i = 0; i < blocks; i++) {
        const uint8_t *g = group + i * gb;
        VI sums[MAXNC];
        if (DPBUSD && (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1 || type == Q8_0)) {
            // Even and odd steps in two chains, so that NC rows keep 2·NC vpdpbusd in flight.
            VI odd[MAXNC];
            for (int s = 0; s < 8; s++) {
                VI wv = V_LOAD(g + 4 * L * s);
                for (int c = 0; c < NC; c++) {
                    VI a = V_SET1(load_u32(x[c] + i * ab + 4 * s));
                    if (s % 2 == 0)
                        sums[c] = V_DPBUSD(s == 0 ? V_ZERO() : sums[c], wv, a);
                    else
                        odd[c] = V_DPBUSD(s == 1 ? V_ZERO() : odd[c], wv, a);
                }
            }
            for (int c = 0; c < NC; c++) sums[c] = V_ADD32(sums[c], odd[c]);
            // Q4_0's and Q5_0's values are stored as q (Σ (q − 8)·a = Σ q·a − 8·Σa; − 16·Σa), Q8_0's as q + 128.
            if (type == Q4_0 || type == Q5_0 || type == Q8_0)
                for (int c = 0; c < NC; c++) sums[c] = V_SUB32(sums[c], V_SET1(ex[(c * blocks + i) * extras + (type == Q8_0 ? 16 : 0)]));
        } else if (type == Q4_0 || type == Q4_1 || type == Q5_0 || type == Q5_1) {
            // Eight steps of pairs ≤ 2 · 15 · 128 = 3840: at most 30,720, inside int16. Values up to
            // 31 (the 5-bit types) four steps at a time: at most 4 · 7,936 = 31,744.
            const int run = five_bit(type) ? 4 : 8;
            VI part[MAXNC];
            for (int s = 0; s < 8; s++) {
                SUFFIX(byte_products)(NC, part, g + 4 * L * s, x, (size_t)(i * ab + 4 * s), s % run == 0);
                if (s % run == run - 1)
                    for (int c = 0; c < NC; c++) sums[c] = s < run ? V_MADD(part[c], ones) : V_ADD32(sums[c], V_MADD(part[c], ones));
            }
            if (type == Q4_0 || type == Q5_0)
                for (int c = 0; c < NC; c++) sums[c] = V_SUB32(sums[c], V_SET1(ex[(c * blocks + i) * extras]));
        } else if (type == Q8_0) {
            // Signed weights as int16 pairs against the activations' int16 pairs.
            for (int t = 0; t < 16; t++) {
                VI wv = V_LOAD(g + 4 * L * t);
                for (int c = 0; c < NC; c++) {
                    VI p = V_MADD(wv, V_SET1(ex[(c * blocks + i) * extras + t]));
                    sums[c] = t == 0 ? p : V_ADD32(sums[c], p);
                }
            }
        } else if (type == Q4_K || type == Q5_K) {
            const int run = type == Q5_K ? 4 : 8;  // steps that add up in int16, as above
            for (int j = 0; j < 8; j++) {
                VI part[MAXNC], scale = V_LOAD(g + 256 * L + 4 * L * j);
                for (int s = 0; s < 8; s++) {
                    SUFFIX(byte_products)(NC, part, g + 32 * L * j + 4 * L * s, x, (size_t)(i * ab + 32 * j + 4 * s), s % run == 0);
                    if (s % run == run - 1)
                        for (int c = 0; c < NC; c++) {
                            VI p = V_MADD(part[c], scale);
                            sums[c] = j == 0 && s < run ? p : V_ADD32(sums[c], p);
                        }
                }
            }
        } else {
            // Sixteen sub-blocks of 16 values (four steps each). Q6_K's values ≤ 63: pairs ≤ 2 · 63 · 128
            // = 16,128, so two steps (half a sub-block) add up in int16; Q3_K's ≤ 7 and Q2_K's ≤ 3 all
            // four (≤ 4 · 1,792 = 7,168).
            const int run = type == Q6_K ? 2 : 4;
            for (int j = 0; j < 16; j++) {
                VI part[MAXNC], scale = V_LOAD(g + 256 * L + 4 * L * j);
                for (int s = 0; s < 4; s++) {
                    SUFFIX(byte_products)(NC, part, g + 16 * L * j + 4 * L * s, x, (size_t)(i * ab + 16 * j + 4 * s), s % run == 0);
                    if (s % run == run - 1)
                        for (int c = 0; c < NC; c++) {
                            VI p = V_MADD(part[c], scale);
                            sums[c] = j == 0 && s < run ? p : V_ADD32(sums[c], p);
                        }
                }
            }
        }
        VF dw = F_LOAD(g + group_scales_offset(type, LANES));
        for (int c = 0; c < NC; c++) {
            const uint32_t *e = ex + (c * blocks + i) * extras;
            VF da = F_SET1(ad[c * blocks + i]);
            if (type == Q6_K || type == Q3_K) {
                // Σ_j sc_j · 32 · Σa_j (Q3_K: 4 · Σa_j): the rows' scales two sub-blocks at a time against the sums of 16.
                VI offset = V_ZERO();
                for (int p = 0; p < 8; p++) offset = V_ADD32(offset, V_MADD(V_LOAD(g + 320 * L + 4 * L * p), V_SET1(e[p])));
                sums[c] = V_SUB32(sums[c], type == Q6_K ? V_SLLI32(offset, 5) : V_SLLI32(offset, 2));
            }
            acc[c] = F_FMADD(F_MUL(dw, da), F_CVT(sums[c]), acc[c]);
            if (q8_1_activations(type)) {
                float s;
                memcpy(&s, e, 4);
                acc[c] = F_FMADD(F_LOAD(g + group_scales_offset(type, LANES) + 4 * L), F_SET1(s), acc[c]);
            } else if (type == Q4_K || type == Q5_K || type == Q2_K) {
                // Σ_j m_j · Σa_j: Q4_K's minimums of 32 against the sums of 32, Q2_K's of 16 against those of 16.
                VI mins = V_ZERO();
                for (int p = 0; p < (type == Q2_K ? 8 : 4); p++)
                    mins = V_ADD32(mins, V_MADD(V_LOAD(g + (type == Q2_K ? 320 : 288) * L + 4 * L * p), V_SET1(e[p])));
                VF dmin = F_LOAD(g + group_scales_offset(type, LANES) + 4 * L);
                acc[c] = F_FNMADD(F_MUL(dmin, da), F_CVT(mins), acc[c]);
            }
        }
    }
    for (int c = 0; c < NC; c++) {
        float *out = y + (a0 + c) * ldy;
        if (n == LANES) {
            F_STORE(out, acc[c]);
        } else {
            float lanes[LANES];
            F_STORE(lanes, acc[c]);
            memcpy(out, lanes, (size_t)n * sizeof(float));
        }
    }
}

// group_columns compiled for each type and count of activation rows (up to MAXNC).
#if MAXNC >= 8
#define WIDE_COLUMNS(TYPE)                                                                      \
    case 8: SUFFIX(group_columns)(TYPE, 8, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break; \
    case 7: SUFFIX(group_columns)(TYPE, 7, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break; \
    case 6: SUFFIX(group_columns)(TYPE, 6, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break; \
    case 5: SUFFIX(group_columns)(TYPE, 5, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;
#else
#define WIDE_COLUMNS(TYPE)
#endif
#define COLUMNS(TYPE, NAME)                                                                                                             \
    TARGET static void NAME(int nc, const uint8_t *group, int64_t blocks, const uint8_t *xq, size_t xs, const float *terms, int64_t m,  \
                            int64_t a0, float *y, int64_t ldy, int n) {                                                                 \
        switch (nc) {                                                                                                                   \
        WIDE_COLUMNS(TYPE)                                                                                                              \
        case 4: SUFFIX(group_columns)(TYPE, 4, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                  \
        case 3: SUFFIX(group_columns)(TYPE, 3, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                  \
        case 2: SUFFIX(group_columns)(TYPE, 2, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                  \
        default: SUFFIX(group_columns)(TYPE, 1, group, blocks, xq, xs, terms, m, a0, y, ldy, n); break;                                 \
        }                                                                                                                               \
    }
COLUMNS(Q4_0, SUFFIX(columns_q4_0))
COLUMNS(Q4_1, SUFFIX(columns_q4_1))
COLUMNS(Q5_0, SUFFIX(columns_q5_0))
COLUMNS(Q5_1, SUFFIX(columns_q5_1))
COLUMNS(Q8_0, SUFFIX(columns_q8_0))
COLUMNS(Q4_K, SUFFIX(columns_q4_K))
COLUMNS(Q5_K, SUFFIX(columns_q5_K))
COLUMNS(Q6_K, SUFFIX(columns_q6_K))
COLUMNS(Q2_K, SUFFIX(columns_q2_K))
COLUMNS(Q3_K, SUFFIX(columns_q3_K))
#undef COLUMNS
#undef WIDE_COLUMNS

// Rows r0 ..< r1 (r0 a multiple of LANES): GROUPS_AT_ONCE groups unpacked into `scratch`, then
// every activation row against them, MAXNC at a time.
TARGET static void SUFFIX(integer_rows)(int type, const uint8_t *w, size_t row_bytes, int64_t k, const uint8_t *xq, size_t xq_row_bytes,
                                        const float *terms, int64_t m, float *y, int64_t ldy, int64_t r0, int64_t r1, uint8_t *scratch) {
    int64_t blocks = k / values_per_block(type);
    size_t stride = (size_t)blocks * group_block_bytes(type, LANES);
    void (*columns)(int, const uint8_t *, int64_t, const uint8_t *, size_t, const float *, int64_t, int64_t, float *, int64_t, int) =
        type == Q4_0   ? SUFFIX(columns_q4_0)
        : type == Q4_1 ? SUFFIX(columns_q4_1)
        : type == Q5_0 ? SUFFIX(columns_q5_0)
        : type == Q5_1 ? SUFFIX(columns_q5_1)
        : type == Q8_0 ? SUFFIX(columns_q8_0)
        : type == Q4_K ? SUFFIX(columns_q4_K)
        : type == Q5_K ? SUFFIX(columns_q5_K)
        : type == Q2_K ? SUFFIX(columns_q2_K)
        : type == Q3_K ? SUFFIX(columns_q3_K)
                       : SUFFIX(columns_q6_K);
    for (int64_t r = r0; r < r1; r += LANES * GROUPS_AT_ONCE) {
        int64_t rows = r1 - r < LANES * GROUPS_AT_ONCE ? r1 - r : LANES * GROUPS_AT_ONCE;
        int groups = (int)((rows + LANES - 1) / LANES);
        for (int g = 0; g < groups; g++)
            pack_group(type, LANES, w + (size_t)(r + LANES * g) * row_bytes, row_bytes, blocks,
                       rows - LANES * g < LANES ? (int)(rows - LANES * g) : LANES, scratch + g * stride);
        for (int64_t a = 0; a < m; a += MAXNC)
            for (int g = 0; g < groups; g++)
                columns(m - a < MAXNC ? (int)(m - a) : MAXNC, scratch + g * stride, blocks, xq, xq_row_bytes, terms, m, a, y + r + LANES * g, ldy,
                        rows - LANES * g < LANES ? (int)(rows - LANES * g) : LANES);
    }
}
