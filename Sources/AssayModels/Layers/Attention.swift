import AssayTensor
import Foundation

/// Attention layers shared by the architectures.
enum Attention {
    /// Causal grouped-query attention of `n` new positions starting at `start` over every cached
    /// position, batched per head on GEMM: softmax(Q_h K_gᵀ / √d + causal mask) V_g.
    /// With `f16Probabilities` the softmax output is rounded to f16 before it meets V, as ggml's
    /// non-fused attention converts it for the f16 V cache.
    static func causal(q: [Float], keys: [Float], values: [Float], start: Int, n: Int, f16Probabilities: Bool = false,
                       heads: Int, kvHeads: Int, headDimension d: Int) -> [Float] {
        let width = heads * d, kvWidth = kvHeads * d, group = heads / kvHeads, total = start + n
        let scale = 1 / Float(d).squareRoot()
        func gather(_ x: [Float], _ head: Int, _ rows: Int, _ rowWidth: Int) -> [Float] {
            var out = [Float](repeating: 0, count: rows * d)
            for i in 0..<rows { for t in 0..<d { out[i * d + t] = x[i * rowWidth + head * d + t] } }
            return out
        }
        let cachedKeys = (0..<kvHeads).map { gather(keys, $0, total, kvWidth) }
        let cachedValues = (0..<kvHeads).map { gather(values, $0, total, kvWidth) }
        var output = [Float](repeating: 0, count: n * width)
        for head in 0..<heads {
            let g = head / group
            var scores = BLAS.matmulTransposed(gather(q, head, n, width), cachedKeys[g], m: n, n: total, k: d)
            for i in 0..<n {
                let visible = start + i + 1
                for j in 0..<visible { scores[i * total + j] *= scale }
                Kernels.softmax(&scores, (i * total)..<(i * total + visible))
                for j in visible..<max(visible, total) { scores[i * total + j] = 0 }
            }
            if f16Probabilities { scores = ActivationRounding.f16.apply(scores, rowLength: total) }
            let context = BLAS.matmul(scores, cachedValues[g], m: n, n: d, k: total)
            for i in 0..<n { for t in 0..<d { output[i * width + head * d + t] = context[i * d + t] } }
        }
        return output
    }
}
