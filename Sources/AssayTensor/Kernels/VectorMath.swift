/// Vectorised elementwise math for the forward pass (8 lanes; AVX2 with `-target-cpu haswell`).
public enum VectorMath {
    /// e^x for 8 lanes: x = n·ln 2 + r with |r| ≤ ln2/2 (ln 2 split in two for accuracy), a
    /// degree-6 polynomial for e^r, and 2^n built in the exponent bits. Relative error < 2e-7 for
    /// x in [−87, 88]; smaller x give 0, larger saturate at e^88.
    @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = clamp(x, -87, 88)
        // Round x·log2(e) to an integer with the 1.5·2²³ trick: adding it leaves the rounded value
        // in the low mantissa bits (lane-wise float and integer operations only — Swift's SIMD
        // float→int conversions and `rounded` go lane by lane through generic code).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_145_75
        r = r - n * 1.428_606_8e-6
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let bits = (integer &+ 127) &<< 23
        let scale = unsafeBitCast(bits, to: SIMD8<Float>.self)
        let result = p * scale
        return result.replacing(with: 0, where: x .< -87)
    }

    /// `x` limited to [lower, upper] lane by lane with compares and blends (`SIMD.clamped` goes
    /// through generic, unvectorised code in Swift 6.3). NaN stays NaN.
    @inline(__always)
    public static func clamp(_ x: SIMD8<Float>, _ lower: Float, _ upper: Float) -> SIMD8<Float> {
        x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
    }

    /// e^x for one value through the same approximation as the vector form.
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD8(repeating: x))[0] }

    /// The largest of `values[range]` (not empty), eight lanes at a time.
    public static func maximum(_ values: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>) -> Float {
        precondition(!range.isEmpty && range.upperBound <= values.count, "range out of bounds")
        let base = UnsafeRawPointer(values.baseAddress!)
        var i = range.lowerBound, result = values[i]
        if i + 8 <= range.upperBound {
            var lanes = base.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
            while i + 8 <= range.upperBound {
                let next = base.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                lanes.replace(with: next, where: next .> lanes)  // (pointwiseMax is not specialized: 3× slower)
                i += 8
            }
            result = lanes.max()
        }
        while i < range.upperBound {
            result = max(result, values[i])
            i += 1
        }
        return result
    }

    /// `values[range] = exp(values[range] − shift)`, returning the sum of the results.
    public static func expSubtracting(_ values: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>, shift: Float) -> Float {
        var i = range.lowerBound
        var sum = SIMD8<Float>(repeating: 0)
        let base = values.baseAddress!
        while i + 8 <= range.upperBound {
            let p = UnsafeMutableRawPointer(base + i)
            let e = exp(p.loadUnaligned(as: SIMD8<Float>.self) - shift)
            p.storeBytes(of: e, as: SIMD8<Float>.self)
            sum += e
            i += 8
        }
        var total = sum.sum()
        // The last 1–7 values through one vector (each lane is the scalar form's value), added in order.
        if i < range.upperBound {
            var tail = SIMD8<Float>(repeating: 0)
            for k in 0..<(range.upperBound - i) { tail[k] = base[i + k] - shift }
            let e = exp(tail)
            for k in 0..<(range.upperBound - i) {
                base[i + k] = e[k]
                total += e[k]
            }
        }
        return total
    }
}
