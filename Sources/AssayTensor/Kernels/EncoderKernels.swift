/// Element-wise kernels of encoder (BERT-family) layers.
extension Kernels {
    /// Layer normalisation of each `dimension`-long row in place: (x − mean) / sqrt(var + eps) · weight
    /// + bias, with the biased variance (PyTorch's `LayerNorm`), mean and variance accumulated in double.
    public static func layerNorm(_ x: inout [Float], weight: [Float], bias: [Float], epsilon: Float) {
        let dimension = weight.count
        precondition(dimension > 0 && bias.count == dimension && x.count % dimension == 0, "shape mismatch")
        x.withUnsafeMutableBufferPointer { px in
            weight.withUnsafeBufferPointer { w in
                bias.withUnsafeBufferPointer { b in
                    for base in stride(from: 0, to: px.count, by: dimension) {
                        var sum = 0.0
                        for i in 0..<dimension { sum += Double(px[base + i]) }
                        let mean = sum / Double(dimension)
                        var squares = 0.0
                        for i in 0..<dimension {
                            let d = Double(px[base + i]) - mean
                            squares += d * d
                        }
                        let scale = Float(1 / (squares / Double(dimension) + Double(epsilon)).squareRoot()), m = Float(mean)
                        for i in 0..<dimension { px[base + i] = (px[base + i] - m) * scale * w[i] + b[i] }
                    }
                }
            }
        }
    }

    /// The exact GELU, x · Φ(x) = x/2 · (1 + erf(x/√2)), in place (PyTorch's `gelu`, not the tanh
    /// approximation).
    public static func gelu(_ x: inout [Float]) {
        x.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            var i = 0
            while i + 8 <= p.count {
                let raw = UnsafeMutableRawPointer(base + i)
                let v = raw.loadUnaligned(as: SIMD8<Float>.self)
                raw.storeBytes(of: v * 0.5 * (1 + VectorMath.erf(v * 0.707_106_77)), as: SIMD8<Float>.self)
                i += 8
            }
            while i < p.count {
                p[i] = p[i] * 0.5 * (1 + VectorMath.erf(p[i] * 0.707_106_77))
                i += 1
            }
        }
    }
}

extension VectorMath {
    /// erf(x) for 8 lanes: an odd rational function (degree 13 over degree 12) on x clamped to
    /// [−4, 4], where erf is ±1 to float precision. Absolute error below 5e-7, a few float ulps
    /// (tested against libm's `erf` in double).
    @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let v = x.clamped(lowerBound: SIMD8(repeating: -4), upperBound: SIMD8(repeating: 4))
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
