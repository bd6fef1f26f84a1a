import AssayTensor
import Foundation

/// DeepSeek-V2/V3's multi-head latent attention, as DeepSeek's own inference code computes it
/// (`MLA` in deepseek-ai/DeepSeek-V3 `inference/model.py`, its "absorb" form): the cache holds,
/// per position, the normalized latent c (kvLora values) and the rotated shared key part k_pe
/// (rope values); a head's score is (q_nope·W_k)·c + q_pe·k_pe, its output W_v·(Σ p·c).
struct LatentAttention: Sendable {
    /// The MLA sizes.
    struct Sizes: Sendable, Equatable {
        /// Q through a low-rank bottleneck of this width (DeepSeek-V3, V2), nil: one projection (V2-Lite).
        var qLoraRank: Int?
        var kvLoraRank: Int
        var nopeDimension: Int
        var ropeDimension: Int
        var valueDimension: Int
        var qkDimension: Int { nopeDimension + ropeDimension }
    }

    var qA: WeightMatrix?, qANorm: [Float]?, qB: WeightMatrix?
    /// Without a Q bottleneck.
    var q: WeightMatrix?
    /// x → [c (kvLora) | k_pe (rope)].
    var kvA: WeightMatrix
    var kvANorm: [Float]
    /// The up-projections in GGUF's layout (attn_k_b, attn_v_b): per head, kvLora rows of nope
    /// (q_nope → its latent) and v rows of kvLora (the latent output → v); matrix-vector products
    /// on head row ranges, in the stored type.
    var keyUp: WeightMatrix
    var valueUp: WeightMatrix

    /// Appends the new positions' latent rows to `cache` and returns the heads' outputs
    /// (n × heads·v, before the output projection). With `ggml` the latent cache, the queries
    /// meeting it and the probabilities are rounded to f16, as llama.cpp's f16 cache does.
    func apply(_ x: [Float], rows n: Int, positions: [Int], cache: inout [Float], start: Int, sizes s: Sizes, heads: Int,
               scale: Float, epsilon: Float, rope: (inout [Float], [Int], Int) -> Void, ggml: Bool) -> [Float] {
        var query: [Float]
        if let qA, let qANorm, let qB {
            let compressed = Kernels.rmsNorm(qA.linear(x, rows: n, ggml: ggml), weight: qANorm, dimension: s.qLoraRank!, epsilon: epsilon)
            query = qB.linear(compressed, rows: n, ggml: ggml)
        } else {
            query = q!.linear(x, rows: n, ggml: ggml)
        }
        // Q: per head [nope | rope]; the rope parts rotated on their own.
        let qk = s.qkDimension, lora = s.kvLoraRank, r = s.ropeDimension, nope = s.nopeDimension, latentWidth = lora + r
        var queryRope = [Float](repeating: 0, count: n * heads * r)
        for row in 0..<n {
            for h in 0..<heads {
                for j in 0..<r { queryRope[(row * heads + h) * r + j] = query[row * heads * qk + h * qk + nope + j] }
            }
        }
        rope(&queryRope, positions, heads)
        // The new latent rows: c normalized, k_pe rotated.
        let compressed = kvA.linear(x, rows: n, ggml: ggml)
        var latent = [Float](repeating: 0, count: n * latentWidth)
        var keyRope = [Float](repeating: 0, count: n * r)
        for row in 0..<n {
            let c = Array(compressed[(row * latentWidth)..<(row * latentWidth + lora)])
            let normalized = Kernels.rmsNorm(c, weight: kvANorm, dimension: lora, epsilon: epsilon)
            for j in 0..<lora { latent[row * latentWidth + j] = normalized[j] }
            for j in 0..<r { keyRope[row * r + j] = compressed[row * latentWidth + lora + j] }
        }
        rope(&keyRope, positions, 1)
        for row in 0..<n { for j in 0..<r { latent[row * latentWidth + lora + j] = keyRope[row * r + j] } }
        cache += latent
        let keys = start + n
        var attended = [Float](repeating: 0, count: n * heads * s.valueDimension)
        var queryNope = [Float](repeating: 0, count: n * nope)
        var scores = [Float](repeating: 0, count: n * keys)
        var outputLatent = [Float](repeating: 0, count: n * lora)
        for h in 0..<heads {
            // q_nope · W_k(h): n × lora, through the head's rows of attn_k_b.
            for row in 0..<n { for d in 0..<nope { queryNope[row * nope + d] = query[row * heads * qk + h * qk + d] } }
            let queryLatent = keyUp.rows((h * lora)..<((h + 1) * lora)).linear(queryNope, rows: n, ggml: ggml)
            cache.withUnsafeBufferPointer { pc in
                queryLatent.withUnsafeBufferPointer { pq in
                    queryRope.withUnsafeBufferPointer { pr in
                        scores.withUnsafeMutableBufferPointer { ps in
                            // scale · (q_lat · cᵀ + q_pe · k_peᵀ)
                            BLAS.gemm(m: n, n: keys, k: lora, alpha: scale, a: pq.baseAddress!, lda: lora,
                                      b: pc.baseAddress!, ldb: latentWidth, transposeB: true, c: ps.baseAddress!, ldc: keys)
                            BLAS.gemm(m: n, n: keys, k: r, alpha: scale, a: pr.baseAddress! + h * r, lda: heads * r,
                                      b: pc.baseAddress! + lora, ldb: latentWidth, transposeB: true, beta: 1, c: ps.baseAddress!, ldc: keys)
                        }
                    }
                }
            }
            for row in 0..<n {
                let visible = start + row + 1, base = row * keys
                Kernels.softmax(&scores, base..<(base + visible))
                for j in visible..<keys { scores[base + j] = 0 }
            }
            if ggml { for i in scores.indices { scores[i] = Float(Float16(scores[i])) } }
            cache.withUnsafeBufferPointer { pc in
                scores.withUnsafeBufferPointer { ps in
                    outputLatent.withUnsafeMutableBufferPointer { po in
                        BLAS.gemm(m: n, n: lora, k: keys, a: ps.baseAddress!, lda: keys, b: pc.baseAddress!, ldb: latentWidth,
                                  transposeB: false, c: po.baseAddress!, ldc: lora)
                    }
                }
            }
            // W_v(h) · o_lat: n × v, through the head's rows of attn_v_b, into the head's columns.
            let values = valueUp.rows((h * s.valueDimension)..<((h + 1) * s.valueDimension)).linear(outputLatent, rows: n, ggml: ggml)
            for row in 0..<n {
                for j in 0..<s.valueDimension { attended[row * heads * s.valueDimension + h * s.valueDimension + j] = values[row * s.valueDimension + j] }
            }
        }
        return attended
    }
}
