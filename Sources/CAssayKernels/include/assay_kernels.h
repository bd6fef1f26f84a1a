// Matrix-vector kernels over ggml block formats, for decode with weights that stay quantized.
// Types are ggml's ids (GGMLType's raw values). Every function takes whole blocks only; callers
// check shapes. The activation formats q8_0, q8_1 and q8_K are ggml's block layouts.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Bytes of one q8_K block (f32 scale, 256 int8, 16 int16 block sums).
#define ASSAY_Q8_K_BYTES 292

/// 1 when this CPU runs the AVX2+FMA+F16C kernels, 0 when the portable ones run.
int assay_simd_level(void);
/// Forces the portable kernels (1) or the best the CPU has (0): tests compare the two.
void assay_force_portable(int on);
/// The AVX-512 kernels this CPU runs: 2 with AVX-512 F, BW, VL and VNNI (the integer products and
/// the ordered ones), 1 with AVX-512 F but not all of those (the ordered products), 0 without
/// (or when forced off).
int assay_avx512_level(void);
/// Keeps every kernel on AVX2 where the CPU has AVX-512 (1), or lets them use it (0): tests compare the two.
void assay_force_avx2(int on);

/// The block type activations take when they meet weights of `type` in a quantized product
/// (ggml's vec_dot_type: q8_0, q8_1 or q8_K), or -1 when the weights are f32, f16 or bf16.
int assay_vec_dot_type(int type);

/// Bytes `k` values take in `type` (whole blocks), or 0 for a type without kernels.
size_t assay_row_bytes(int type, int64_t k);

/// Quantizes `k` floats to q8_0, q8_1 or q8_K blocks as ggml's x86 build does.
void assay_quantize_row(int activation_type, const float *x, void *y, int64_t k);

/// Dequantizes `k` values of `type` to f32, bit-identical to AssayTensor's Dequantizer (no fused
/// multiply-add). Returns 0 for a type without kernels.
int assay_dequantize_row(int type, const void *w, float *y, int64_t k);

/// y[i] = row (r0 + i) of W · activations, for rows r0 ..< r1 of a matrix whose rows hold `k`
/// values of `type`, `row_bytes` apart. With `xq` (activations quantized to
/// assay_vec_dot_type(type)) the products are ggml's integer ones; with `xq` NULL, the f32 `x`
/// meets the dequantized weights.
void assay_gemv(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq, float *y, int64_t r0,
                int64_t r1);

/// Whether assay_gemv's exact products (f32 activations, one row) of `type` split the activations
/// into four 8-bit limbs for integer products on this CPU: Q4_0, Q4_1, Q4_K, Q5_K and Q6_K with
/// AVX-512 VNNI and VBMI (avx512_exact.c); otherwise each weight is converted to float for its multiply-add.
int assay_exact_splits_activations(int type);

/// The CPUs this process may use: the smaller of its affinity mask (taskset, cpusets, Slurm's
/// binding) and its cgroup's CPU bandwidth limit rounded up (docker --cpus, a Kubernetes CPU
/// limit); at least 1. The default thread count. Read once.
int assay_available_cpus(void);

/// The smallest CPU limit (ceil(quota / period)) of the cgroups that `proc_cgroup` (a
/// /proc/self/cgroup file) names, under `root` (where cgroupfs is mounted), and their ancestors;
/// cgroup v2 (also at root/unified) and v1 (root/cpu or root/cpu,cpuacct); 0 when none is set.
int assay_cgroup_cpu_limit(const char *proc_cgroup, const char *root);

/// Threads the parallel kernels use (the caller plus `n − 1` pool workers, started on first use
/// and kept: they spin briefly between products, as ggml's do, then sleep).
void assay_set_threads(int n);
int assay_threads(void);

/// assay_gemv over `rows` rows, split across the pool when the matrix holds at least
/// `min_bytes_per_part` bytes per thread.
void assay_gemv_parallel(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq, float *y,
                         int64_t rows, size_t min_bytes_per_part);

/// `rows` rows of `k` values of `type` (rows `row_bytes` apart) dequantized into `y`, split
/// across the pool.
void assay_dequantize_rows_parallel(int type, const void *w, size_t row_bytes, int64_t k, float *y, int64_t rows);

/// Whether assay_dequantize_row converts `type` fast on this CPU (a SIMD path, or BF16's shift):
/// a short batch of f32 activations meets such weights in dequantized tiles
/// (assay_gemm_rows_parallel), others in the matrix-vector kernels.
int assay_fast_dequantize(int type);

/// y[a · ldy + r] = row r of W · activation row a, for a < m and r < rows, with a few weight rows
/// at a time meeting every activation row so that the weights are read once. Activations are `m`
/// quantized rows `xq_row_bytes` apart (`xq`): assay_gemv's products, bit-identical to m separate
/// calls; or `m` f32 rows of `k` (`x`): for the types of assay_fast_dequantize four weight rows
/// at a time are dequantized into an f32 tile that meets every activation row
/// (each output the same whatever other rows, m ≥ 2, share the batch and whatever the thread
/// count, but not the one-row kernel's sum; assay_gemv's products if the tiles cannot be
/// allocated), for other types assay_gemv's products. Split across the pool like
/// assay_gemv_parallel.
void assay_gemm_rows_parallel(int type, const void *w, size_t row_bytes, int64_t k, const float *x, const void *xq,
                              size_t xq_row_bytes, int64_t m, float *y, int64_t ldy, int64_t rows, size_t min_bytes_per_part);

/// Whether assay_gemm_integer_parallel multiplies weights of `type`: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
/// Q2_K, Q3_K, Q4_K, Q5_K and Q6_K, where the CPU runs its SIMD kernels (or assay_force_portable is on, for tests).
int assay_integer_gemm_type(int type);
/// Weight rows the integer products take at a time on this CPU: 16 (AVX-512 with VNNI), 8 (AVX2),
/// 0 (the portable kernel).
int assay_integer_lanes(void);

/// y[a · ldy + r] = row r of W · activation row a, for a < m and r < rows, with the activations
/// quantized to assay_vec_dot_type(type) (`m` rows `xq_row_bytes` apart): ggml's integer block
/// products for a long batch (prefill), 16 weight rows at a time with AVX-512 VNNI (8 with AVX2)
/// unpacked to meet every activation row. Each output is one chain over the blocks,
/// acc = fma(d_w · d_a, Σ q·a, acc) (Σ q·a exact, the K-quants' sub-block scales inside it; Q4_1
/// then adds m_w · s_a, Q2_K and Q4_K −dmin_w · d_a · Σ m·Σa; Q6_K's and Q3_K's offsets come off
/// inside the integer sum; integer.c), so it is the same bits whatever m
/// is, whichever rows share the batch, however many threads split the rows and whether the
/// AVX-512, AVX2 or portable kernel runs — but not assay_gemv's sum, which spreads a block over
/// eight lanes first. Types of assay_integer_gemm_type only; split across the pool on groups of 16 rows.
void assay_gemm_integer_parallel(int type, const void *w, size_t row_bytes, int64_t k, const void *xq, size_t xq_row_bytes,
                                 int64_t m, float *y, int64_t ldy, int64_t rows);

/// C (m × n, rows `ldc` apart) = S + A (m × k, rows `lda` apart) · op(B), where op(B)[kk][j] is
/// b[j · ldb + kk] when `transposed` (B holds n rows of k values: a weight matrix, one output per
/// row) and b[kk · ldb + j] otherwise, and S is every row equal to `start` (n values: a bias, or
/// zeros) when it is given, else C itself (C += A · op(B)). Every output is one chain of fused
/// multiply-adds over kk = 0 … k − 1 starting from its value in S: the same bits whatever m is,
/// whichever rows share the product, however many threads split its columns and whether the
/// AVX-512, AVX2 or portable kernel runs; C is not read when `start` is given. `threads` ≤ 1 runs on the
/// caller alone (no pool, no lock: safe from several threads at once); more splits the columns
/// across the pool when the product is large enough.
void assay_sgemm_ordered(int64_t m, int64_t n, int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb, int transposed,
                         const float *start, float *c, int64_t ldc, int threads);

/// Calls task(context, t, part) for every t < count, the tasks claimed one at a time by the caller
/// (part 0) and the pool's workers (parts below min(assay_threads(), max_parts, count)), and
/// returns when all have finished. A task may run on any thread and in any order. Tasks and
/// parallel products that a task asks for run on its thread alone (the pool runs one job at a time).
void assay_parallel_tasks(int64_t count, int max_parts, void (*task)(void *context, int64_t task, int part), void *context);

/// glibc's allocator: blocks of up to `mmap_threshold` bytes come from the heap (not a mapping
/// of their own, returned on free), and up to `trim_threshold` bytes of freed heap stay mapped.
/// Returns the mmap threshold glibc accepted (halved until it does: glibc before 2.35 takes 32 MiB
/// at most), or 0 when nothing was set (not glibc).
size_t assay_keep_heap_buffers(size_t mmap_threshold, size_t trim_threshold);

/// Query rows of `heads` heads that share one KV head (q + h·d, d floats each) against the keys
/// of cached positions first ..< count, rows `stride` values apart starting at `k` (the KV head's d
/// values each; f16 when `half` is 1, else f32): scores[h · scores_stride + j] = scale · q_h·k_j,
/// halves converted as they are read (attention.c). Each score is the same bits from either cache
/// type when the f32 values are halves, from the AVX2 and the portable kernels (a NaN in the cache
/// aside: F16C quiets a signalling one) and whatever the number of heads in the call. Other
/// entries of `scores` are not written.
void assay_attention_scores(const float *q, int64_t heads, const void *k, int half, int64_t stride, int64_t d, int64_t first, int64_t count,
                            float scale, float *scores, int64_t scores_stride);
/// out[h · d + i] = Σ p[h · p_stride + j] · v_j[i] over j = first ..< count in order (one fused
/// multiply-add each), i < d, for each of `heads` heads sharing one KV head: the values' rows laid
/// out as the keys' in assay_attention_scores.
void assay_attention_values(const float *p, int64_t p_stride, int64_t heads, const void *v, int half, int64_t stride, int64_t d, int64_t first,
                            int64_t count, float *out);
