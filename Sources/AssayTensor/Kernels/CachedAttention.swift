import CAssayKernels

extension Kernels {
    /// scores[h · scoresStride + j] = scale · q_h·k_j for j in `positions` and h < `heads`: the
    /// query rows of heads that share one KV head (`headDimension` values each, consecutive from
    /// `q`) against that KV head's cached keys, rows `stride` values apart from `keys` (halves
    /// when `half`, converted as they are read; else floats). Each score is the same bits whatever
    /// `heads` is. Other entries of `scores` are not written. Several heads need a `scoresStride`
    /// that keeps their rows apart.
    public static func cachedScores(q: UnsafePointer<Float>, heads: Int = 1, keys: UnsafeRawPointer, half: Bool, stride: Int, headDimension: Int,
                                    positions: Range<Int>, scale: Float, into scores: UnsafeMutablePointer<Float>, scoresStride: Int = 0) {
        precondition(heads == 1 || scoresStride >= positions.upperBound, "cached attention: scores rows overlap")
        assay_attention_scores(q, Int64(heads), keys, half ? 1 : 0, Int64(stride), Int64(headDimension), Int64(positions.lowerBound),
                               Int64(positions.upperBound), scale, scores, Int64(scoresStride))
    }

    /// out[h · headDimension + i] = Σ p[h · pStride + j] · v_j[i] over j in `positions` in order,
    /// i < headDimension, h < `heads`: the weighted sums of one KV head's cached values, laid out
    /// as the keys of
    /// ``cachedScores(q:heads:keys:half:stride:headDimension:positions:scale:into:scoresStride:)``.
    /// Several heads need a `pStride` that keeps their rows apart.
    public static func cachedValues(p: UnsafePointer<Float>, pStride: Int = 0, heads: Int = 1, values: UnsafeRawPointer, half: Bool, stride: Int,
                                    headDimension: Int, positions: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(heads == 1 || pStride >= positions.upperBound, "cached attention: probability rows overlap")
        assay_attention_values(p, Int64(pStride), Int64(heads), values, half ? 1 : 0, Int64(stride), Int64(headDimension),
                               Int64(positions.lowerBound), Int64(positions.upperBound), out)
    }
}
