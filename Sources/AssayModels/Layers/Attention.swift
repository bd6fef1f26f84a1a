import AssayTensor
import Foundation

/// Attention layers shared by the architectures.
enum Attention {
    /// Causal grouped-query attention of `n` new positions starting at `start` over every cached
    /// position, batched per head on GEMM: softmax(Q_h K_gᵀ / √d + causal mask) V_g.
    /// With `f16Probabilities` the softmax output is rounded to f16 before it meets V, as ggml's
    /// non-fused attention converts it for the f16 V cache.
    /// With `window`, a query at position p sees the keys at p − window + 1 … p only (a sliding window).
    /// `scale` multiplies Q·K (default 1/√d); with `softCap` a score s becomes cap·tanh(s/cap)
    /// before the softmax (Gemma 2).
    static func causal(q: [Float], keys: [Float], values: [Float], start: Int, n: Int, f16Probabilities: Bool = false,
                       heads: Int, kvHeads: Int, headDimension d: Int, window: Int? = nil,
                       scale: Float? = nil, softCap: Float? = nil) -> [Float] {
        let width = heads * d, kvWidth = kvHeads * d, group = heads / kvHeads
        let scale = scale ?? 1 / Float(d).squareRoot()
        // Rows go in blocks: a block only needs the keys up to its last row, so most of the
        // masked upper triangle is never computed.
        let blockRows = 128, blocks = (n + blockRows - 1) / blockRows
        // The (head, block) tasks: on the kernels' pool, one scores block per thread, when they
        // hold a million multiply-adds or more (a prefill, a perplexity chunk, a short batch at
        // long contexts; one new position goes through ``decoding``), else on the caller; OpenBLAS on one thread per call either way, so the
        // values are the same whatever the thread counts (``BLAS/singleThreaded(_:)``).
        let tasks = heads * blocks
        let parts = n * (start + n) * heads * d >= 1 << 20 ? max(1, min(Threads.count, tasks)) : 1
        let scoresCount = min(n, blockRows) * (start + n)
        var output = [Float](repeating: 0, count: n * width)
        // Every value a task reads is written by its first product first (beta 0).
        let allScores = UnsafeMutablePointer<Float>.allocate(capacity: parts * scoresCount)
        defer { allScores.deallocate() }
        q.withUnsafeBufferPointer { pq in
            keys.withUnsafeBufferPointer { pk in
                values.withUnsafeBufferPointer { pv in
                    output.withUnsafeMutableBufferPointer { po in
                        // Task t: head t % heads of block `blocks − 1 − t / heads` (the longest blocks first).
                        func task(_ t: Int, _ part: Int) {
                            let head = t % heads, g = head / group, r0 = (blocks - 1 - t / heads) * blockRows
                            let rows = min(blockRows, n - r0), keysNeeded = start + r0 + rows
                            let ps = UnsafeMutableBufferPointer(start: allScores + part * scoresCount, count: rows * keysNeeded)
                            // scores[rows × keysNeeded] = scale · Q_h[r0…] · K_gᵀ (strided: no copies)
                            BLAS.gemm(m: rows, n: keysNeeded, k: d, alpha: scale,
                                      a: pq.baseAddress! + r0 * width + head * d, lda: width,
                                      b: pk.baseAddress! + g * d, ldb: kvWidth, transposeB: true,
                                      c: ps.baseAddress!, ldc: keysNeeded)
                            for i in 0..<rows {
                                let visible = start + r0 + i + 1, rowStart = i * keysNeeded
                                let first = window.map { max(0, visible - $0) } ?? 0
                                if let cap = softCap {
                                    for j in (rowStart + first)..<(rowStart + visible) { ps[j] = cap * tanh(ps[j] / cap) }
                                }
                                Kernels.softmax(ps, (rowStart + first)..<(rowStart + visible))
                                for j in 0..<first { ps[rowStart + j] = 0 }
                                for j in visible..<keysNeeded { ps[rowStart + j] = 0 }
                            }
                            if f16Probabilities {
                                for i in ps.indices { ps[i] = Float(Float16(ps[i])) }
                            }
                            // output[r0…, head] = P · V_g (written in place with the output's stride)
                            BLAS.gemm(m: rows, n: d, k: keysNeeded, a: ps.baseAddress!, lda: keysNeeded,
                                      b: pv.baseAddress! + g * d, ldb: kvWidth, transposeB: false,
                                      c: po.baseAddress! + r0 * width + head * d, ldc: width)
                        }
                        BLAS.singleThreaded {
                            if parts > 1 {
                                Threads.forEachTask(tasks, parts: parts, task)
                            } else {
                                for t in 0..<tasks { task(t, 0) }
                            }
                        }
                    }
                }
            }
        }
        return output
    }

    /// How ``decoding(q:keys:values:half:start:f16Probabilities:heads:kvHeads:headDimension:window:scale:softCap:)``
    /// splits its heads: a task is a slice of a group (query heads that share one KV head, whose
    /// rows the kernels then read once into L1 for all of them), of `sliceHeads` heads or fewer,
    /// `slicesPerGroup` a group, on `parts` threads. The slices go to the pool once the heads hold
    /// 64 K multiply-adds (32 positions of 32 heads of 64): the pool's hand-off costs a few
    /// microseconds, the heads on one thread more. About two slices a thread where the groups
    /// allow (one at least), since the threads claim them one at a time; and a slice holds at most
    /// 64 K scores (256 KB a thread), or one head's when the context is longer.
    static func decodingSlices(heads: Int, kvHeads: Int, visible: Int, headDimension d: Int,
                               threads available: Int) -> (sliceHeads: Int, slicesPerGroup: Int, parts: Int) {
        let group = heads / kvHeads
        let threads = visible * heads * d >= 1 << 16 ? max(1, min(available, heads)) : 1
        let wanted = threads > 1 ? min(group, (2 * threads + kvHeads - 1) / kvHeads) : 1
        let sliceHeads = max(1, min((group + wanted - 1) / wanted, (1 << 16) / visible))
        let slicesPerGroup = (group + sliceHeads - 1) / sliceHeads
        return (sliceHeads, slicesPerGroup, min(threads, kvHeads * slicesPerGroup))
    }

    /// ``causal(q:keys:values:start:n:f16Probabilities:heads:kvHeads:headDimension:window:scale:softCap:)``
    /// for one new position (decode), the cache read in place: `keys` and `values` hold start + 1
    /// rows of kvHeads · headDimension values, halves when `half` (converted as the scores and the
    /// weighted values read them), else floats. Converting a layer's whole f16 cache to f32 first
    /// had cost more than the attention once the context held a few hundred positions (1.1B Q4_0,
    /// 1,024 tokens generated: 4.5 % of the samples in the conversion on the caller's thread, the
    /// worker waiting meanwhile), and an f32 cache took two OpenBLAS calls a head. The same
    /// numbers but for the order of the sums, which both cache types share: with `ggml` numerics
    /// (values that are halves already) an f16 cache gives the f32 cache's bits.
    static func decoding(q: [Float], keys: UnsafeRawPointer, values: UnsafeRawPointer, half: Bool, start: Int, f16Probabilities: Bool,
                         heads: Int, kvHeads: Int, headDimension d: Int, window: Int? = nil,
                         scale: Float? = nil, softCap: Float? = nil) -> [Float] {
        let kvWidth = kvHeads * d, group = heads / kvHeads, bytes = half ? 2 : 4
        let scale = scale ?? 1 / Float(d).squareRoot()
        let visible = start + 1, first = window.map { max(0, visible - $0) } ?? 0
        precondition(q.count == heads * d, "attention shapes")
        let (sliceHeads, slicesPerGroup, parts) = decodingSlices(heads: heads, kvHeads: kvHeads, visible: visible, headDimension: d,
                                                                 threads: Threads.count)
        let slices = kvHeads * slicesPerGroup
        var output = [Float](repeating: 0, count: heads * d)
        let allScores = UnsafeMutablePointer<Float>.allocate(capacity: parts * sliceHeads * visible)
        defer { allScores.deallocate() }
        q.withUnsafeBufferPointer { pq in
            output.withUnsafeMutableBufferPointer { po in
                func task(_ slice: Int, _ part: Int) {
                    let g = slice / slicesPerGroup, firstInGroup = (slice % slicesPerGroup) * sliceHeads
                    let count = min(sliceHeads, group - firstInGroup), head = g * group + firstInGroup
                    let scores = allScores + part * sliceHeads * visible
                    Kernels.cachedScores(q: pq.baseAddress! + head * d, heads: count, keys: keys + g * d * bytes, half: half, stride: kvWidth,
                                         headDimension: d, positions: first..<visible, scale: scale, into: scores, scoresStride: visible)
                    for h in 0..<count {
                        let ps = UnsafeMutableBufferPointer(start: scores + h * visible, count: visible)
                        if let cap = softCap {
                            for j in first..<visible { ps[j] = cap * tanh(ps[j] / cap) }
                        }
                        Kernels.softmax(ps, first..<visible)
                        if f16Probabilities {
                            for j in first..<visible { ps[j] = Float(Float16(ps[j])) }
                        }
                    }
                    Kernels.cachedValues(p: scores, pStride: visible, heads: count, values: values + g * d * bytes, half: half, stride: kvWidth,
                                         headDimension: d, positions: first..<visible, into: po.baseAddress! + head * d)
                }
                if parts > 1 {
                    Threads.forEachTask(slices, parts: parts, task)
                } else {
                    for slice in 0..<slices { task(slice, 0) }
                }
            }
        }
        return output
    }

    /// Bidirectional multi-head attention over packed sequences: `qkv` holds one row of
    /// [Q | K | V] (3 · heads · headDimension values) per token, the tokens of each sequence
    /// consecutive; every token attends to all tokens of its own sequence and none of the others
    /// (what a padding mask computes). Writes one row of heads · headDimension values per token to
    /// `output`; `scores` holds at least (longest sequence)² values. The products are ordered
    /// (``Kernels/orderedProduct(m:n:k:a:lda:b:ldb:transposeB:c:ldc:startingFrom:threads:)``) on this thread,
    /// so a sequence's output depends on that sequence only.
    static func bidirectional(qkv: UnsafePointer<Float>, lengths: [Int], heads: Int, headDimension d: Int,
                              scores: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let width = heads * d, stride = 3 * width
        let scale = 1 / Float(d).squareRoot()
        // Both products start from zeros (nothing to clear first).
        let zeros = [Float](repeating: 0, count: max(d, lengths.max() ?? 0))
        var start = 0
        for length in lengths {
            defer { start += length }
            guard length > 0 else { continue }
            let rows = qkv + start * stride
            for head in 0..<heads {
                // scores[length × length] = Q_h K_hᵀ (strided: no copies), then scaled
                let buffer = UnsafeMutableBufferPointer(start: scores, count: length * length)
                Kernels.orderedProduct(m: length, n: length, k: d, a: rows + head * d, lda: stride, b: rows + width + head * d, ldb: stride,
                                       transposeB: true, c: scores, ldc: length, startingFrom: zeros, threads: 1)
                for i in 0..<length {
                    let row = (i * length)..<((i + 1) * length)
                    var maximum = -Float.infinity
                    for j in row {
                        buffer[j] *= scale
                        maximum = max(maximum, buffer[j])
                    }
                    let inverse = 1 / VectorMath.expSubtracting(buffer, row, shift: maximum)
                    for j in row { buffer[j] *= inverse }
                }
                Kernels.orderedProduct(m: length, n: d, k: length, a: scores, lda: length, b: rows + 2 * width + head * d, ldb: stride,
                                       transposeB: false, c: output + start * width + head * d, ldc: width, startingFrom: zeros, threads: 1)
            }
        }
    }
}
