import CAssayKernels

extension Kernels {
    /// scores[j] = scale · q·k_j for j in `positions`: one query row of `headDimension` values
    /// against one KV head's cached keys, rows `stride` values apart from `keys` (halves when
    /// `half`, converted as they are read; else floats). Other entries of `scores` are not written.
    public static func cachedScores(q: UnsafePointer<Float>, keys: UnsafeRawPointer, half: Bool, stride: Int, headDimension: Int,
                                    positions: Range<Int>, scale: Float, into scores: UnsafeMutablePointer<Float>) {
        assay_attention_scores(q, keys, half ? 1 : 0, Int64(stride), Int64(headDimension), Int64(positions.lowerBound),
                               Int64(positions.upperBound), scale, scores)
    }

    /// out[i] = Σ p[j] · v_j[i] over j in `positions` in order, i < headDimension: the weighted sum
    /// of one KV head's cached values, laid out as the keys of
    /// ``cachedScores(q:keys:half:stride:headDimension:positions:scale:into:)``.
    public static func cachedValues(p: UnsafePointer<Float>, values: UnsafeRawPointer, half: Bool, stride: Int, headDimension: Int,
                                    positions: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        assay_attention_values(p, values, half ? 1 : 0, Int64(stride), Int64(headDimension), Int64(positions.lowerBound),
                               Int64(positions.upperBound), out)
    }
}
