import CAssayKernels

/// Element-wise kernels of encoder (BERT-family) layers, and their ordered matrix products.
extension Kernels {
    /// c (m × n, rows `ldc` apart) += a (m × k, rows `lda` apart) · op(b) — op(b) = bᵀ for b of n
    /// rows of k (`transposeB`), else b (k rows of n) — or, with `start` (n values), c = start +
    /// a · op(b) without reading c; every output one chain of fused multiply-adds over k in order
    /// from its value in c or `start` (`assay_sgemm_ordered`): the same bits
    /// whatever the other rows, the thread count (`threads` 1: this thread only, safe from
    /// several at once) or the CPU's SIMD level.
    public static func orderedProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                      transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int, startingFrom start: UnsafePointer<Float>? = nil,
                                      threads: Int) {
        assay_sgemm_ordered(Int64(m), Int64(n), Int64(k), a, Int64(lda), b, Int64(ldb), transposeB ? 1 : 0, start, c, Int64(ldc), Int32(threads))
    }

    /// Layer normalisation of each `dimension`-long row in place: (x − mean) / sqrt(var + eps) · weight
    /// + bias, with the biased variance (PyTorch's `LayerNorm`).
    public static func layerNorm(_ x: inout [Float], weight: [Float], bias: [Float], epsilon: Float) {
        let dimension = weight.count
        precondition(dimension > 0 && bias.count == dimension && x.count % dimension == 0, "shape mismatch")
        x.withUnsafeMutableBufferPointer { px in
            residualLayerNorm(px.baseAddress!, adding: nil, rows: px.count / dimension, weight: weight, bias: bias, epsilon: epsilon)
        }
    }

    /// `x = LayerNorm(x + residual)` row by row (`residual` nil: `x = LayerNorm(x)`), each row of
    /// `weight.count` values. Mean and variance are two passes of 8-lane float sums.
    public static func residualLayerNorm(_ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>?, rows: Int,
                                         weight: [Float], bias: [Float], epsilon: Float) {
        let d = weight.count
        precondition(bias.count == d, "shape mismatch")
        let vectorEnd = d - d % 8
        weight.withUnsafeBufferPointer { pw in
            bias.withUnsafeBufferPointer { pb in
                let w = UnsafeRawPointer(pw.baseAddress!), b = UnsafeRawPointer(pb.baseAddress!)
                for row in 0..<rows {
                    let base = x + row * d, raw = UnsafeMutableRawPointer(base)
                    if let residual {
                        let r = UnsafeRawPointer(residual + row * d)
                        var i = 0
                        while i < vectorEnd {
                            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                                + r.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self), toByteOffset: 4 * i, as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < d { base[i] += residual[row * d + i]; i += 1 }
                    }
                    var sum = SIMD8<Float>(repeating: 0), tail: Float = 0
                    var i = 0
                    while i < vectorEnd { sum += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self); i += 8 }
                    while i < d { tail += base[i]; i += 1 }
                    let mean = (sum.sum() + tail) / Float(d)
                    var squares = SIMD8<Float>(repeating: 0), tailSquares: Float = 0
                    i = 0
                    while i < vectorEnd {
                        let c = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - mean
                        squares += c * c
                        i += 8
                    }
                    while i < d { tailSquares += (base[i] - mean) * (base[i] - mean); i += 1 }
                    let scale = 1 / ((squares.sum() + tailSquares) / Float(d) + epsilon).squareRoot()
                    i = 0
                    while i < vectorEnd {
                        let c = (raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - mean) * scale
                        let y = c * w.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) + b.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
                        raw.storeBytes(of: y, toByteOffset: 4 * i, as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < d { base[i] = (base[i] - mean) * scale * pw[i] + pb[i]; i += 1 }
                }
            }
        }
    }

    /// The exact GELU, x · Φ(x) = x/2 · (1 + erf(x/√2)), in place (PyTorch's `gelu`, not the tanh
    /// approximation).
    public static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { gelu($0.baseAddress!, count: $0.count) }
    }

    /// The exact GELU in place on `count` values.
    public static func gelu(_ base: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let raw = UnsafeMutableRawPointer(base + i)
            let v = raw.loadUnaligned(as: SIMD8<Float>.self)
            raw.storeBytes(of: v * 0.5 * (1 + VectorMath.erf(v * 0.707_106_77)), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            base[i] = base[i] * 0.5 * (1 + VectorMath.erf(base[i] * 0.707_106_77))
            i += 1
        }
    }
}

extension VectorMath {
    /// erf(x) for 8 lanes: an odd rational function (degree 13 over degree 12) on x clamped to
    /// [−4, 4], where erf is ±1 to float precision. Absolute error below 5e-7, a few float ulps
    /// (tested against libm's `erf` in double).
    @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let v = clamp(x, -4, 4)
        let v2 = v * v
        var p = SIMD8<Float>(repeating: -2.726_142_3e-10)
        p = p * v2 + 2.770_681_4e-08
        p = p * v2 - 2.101_024_0e-06
        p = p * v2 - 5.692_506_4e-05
        p = p * v2 - 7.349_906_3e-04
        p = p * v2 - 2.954_600_0e-03
        p = p * v2 - 1.609_603_3e-02
        p = p * v
        var q = SIMD8<Float>(repeating: -1.456_607_2e-05)
        q = q * v2 - 2.133_740_6e-04
        q = q * v2 - 1.682_827_0e-03
        q = q * v2 - 7.373_329_2e-03
        q = q * v2 - 1.426_473_9e-02
        return p / q
    }

    /// erf(x) for one value through the same approximation as the vector form.
    @inline(__always)
    public static func erf(_ x: Float) -> Float { erf(SIMD8(repeating: x))[0] }
}
