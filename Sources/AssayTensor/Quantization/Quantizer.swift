/// Quantization of f32 values to ggml block formats, bit-exact with ggml's reference quantizers
/// (`quantize_row_*_ref` in ggml-quants.c, which `llama-quantize` uses without an importance
/// matrix; gguf-py's `quants.quantize` computes the same bytes for the 32-element formats).
/// Every product and sum is done in f32 in ggml's order.
public enum Quantizer {
    /// The formats this quantizer writes.
    public static let supportedTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// The blocks of `values` in `type`.
    /// - Precondition: `type` is in ``supportedTypes`` and `values.count` is a whole number of blocks.
    public static func quantize(_ values: [Float], as type: GGMLType) -> [UInt8] {
        precondition(supportedTypes.contains(type), "\(type) cannot be quantized yet")
        precondition(values.count % type.blockSize == 0, "whole blocks only")
        let blocks = values.count / type.blockSize, size = type.blockSize
        var out = [UInt8](repeating: 0, count: blocks * type.typeSize)
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { y in
                for b in 0..<blocks {
                    let block = UnsafeMutableRawBufferPointer(rebasing: y[(b * type.typeSize)..<((b + 1) * type.typeSize)])
                    let source = UnsafeBufferPointer(rebasing: x[(b * size)..<((b + 1) * size)])
                    switch type {
                    case .q8_0: q8_0(source, block)
                    case .q4_0: q4_0(source, block)
                    case .q4_1: q4_1(source, block)
                    case .q5_0: q5_0(source, block)
                    case .q5_1: q5_1(source, block)
                    case .q4_K: q4_K(source, block)
                    case .q5_K: q5_K(source, block)
                    case .q6_K: q6_K(source, block)
                    default: break
                    }
                }
            }
        }
        return out
    }

    /// `values` after quantizing to `type` and back: what a model computes with those weights.
    public static func roundTrip(_ values: [Float], as type: GGMLType) -> [Float] {
        let bytes = quantize(values, as: type)
        return bytes.withUnsafeBytes { Dequantizer.dequantize(type, $0, count: values.count) }
    }

    static func storeHalf(_ value: Float, _ y: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        y.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: offset, as: UInt16.self)
    }

    static func half(_ y: UnsafeMutableRawBufferPointer, at offset: Int) -> Float {
        HalfPrecision.float(half: UInt16(littleEndian: y.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// ggml's `nearest_int`: round half to even through the 1.5·2²³ trick.
    @inline(__always)
    static func nearestInt(_ value: Float) -> Int {
        let bits = Int32(bitPattern: (value + 12_582_912).bitPattern)
        return Int((bits & 0x007F_FFFF) - 0x0040_0000)
    }

    /// C's `(int8_t)` of a float: truncation toward zero, wrapped to 8 bits.
    @inline(__always)
    static func int8(_ value: Float) -> Int {
        guard value.isFinite, abs(value) < 1e9 else { return 0 }
        return Int(Int8(truncatingIfNeeded: Int(value)))
    }

    // MARK: 32-element formats

    /// d = amax/127 (f16), q = round(x/d), rounding halves away from zero (C `roundf`).
    static func q8_0(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        var amax: Float = 0
        for v in x { amax = max(amax, abs(v)) }
        let d = amax / 127, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        for j in 0..<32 {
            // Finite values give |q| ≤ 127. A NaN or infinity (refused where files are written)
            // stores −128 instead of trapping; an in-memory copy's run then refuses its NaN
            // results, or, for a NaN beside finite values, computes with −128·d in its place.
            let q = (x[j] * inverse).rounded(.toNearestOrAwayFromZero)
            y[2 + j] = UInt8(bitPattern: q.isFinite ? Int8(q) : .min)
        }
    }

    /// The value of largest magnitude (the first one on ties), with its sign.
    @inline(__always)
    static func signedMax(_ x: UnsafeBufferPointer<Float>) -> Float {
        var amax: Float = 0, maximum: Float = 0
        for v in x where amax < abs(v) { amax = abs(v); maximum = v }
        return maximum
    }

    @inline(__always)
    static func minMax(_ x: UnsafeBufferPointer<Float>) -> (Float, Float) {
        var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
        for v in x { if v < lo { lo = v }; if v > hi { hi = v } }
        return (lo, hi)
    }

    /// d = m/−8 (f16), q = min(15, trunc(x/d + 8.5)); element j in the low nibble of byte j,
    /// element j + 16 in its high nibble.
    static func q4_0(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let d = signedMax(x) / -8, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        for j in 0..<16 {
            let low = min(15, int8(x[j] * inverse + 8.5)), high = min(15, int8(x[j + 16] * inverse + 8.5))
            y[2 + j] = UInt8(truncatingIfNeeded: low) | UInt8(truncatingIfNeeded: high) << 4
        }
    }

    /// d = (max − min)/15, m = min (both f16), q = min(15, trunc((x − min)/d + 0.5)).
    static func q4_1(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 15, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        storeHalf(lo, y, at: 2)
        for j in 0..<16 {
            let a = min(15, int8((x[j] - lo) * inverse + 0.5)), b = min(15, int8((x[j + 16] - lo) * inverse + 0.5))
            y[4 + j] = UInt8(truncatingIfNeeded: a) | UInt8(truncatingIfNeeded: b) << 4
        }
    }

    /// d = m/−16 (f16), q = min(31, trunc(x/d + 16.5)); the fifth bits in a 32-bit qh.
    static func q5_0(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let d = signedMax(x) / -16, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = UInt8(truncatingIfNeeded: min(31, int8(x[j] * inverse + 16.5)))
            let b = UInt8(truncatingIfNeeded: min(31, int8(x[j + 16] * inverse + 16.5)))
            y[6 + j] = (a & 0x0F) | (b & 0x0F) << 4
            qh |= UInt32((a & 0x10) >> 4) << UInt32(j) | UInt32((b & 0x10) >> 4) << UInt32(j + 16)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 2, as: UInt32.self)
    }

    /// d = (max − min)/31, m = min, q = trunc((x − min)/d + 0.5) (8 bits, no clamp, as ggml).
    static func q5_1(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let (lo, hi) = minMax(x)
        let d = (hi - lo) / 31, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        storeHalf(lo, y, at: 2)
        var qh: UInt32 = 0
        for j in 0..<16 {
            let a = UInt8(truncatingIfNeeded: int8((x[j] - lo) * inverse + 0.5))
            let b = UInt8(truncatingIfNeeded: int8((x[j + 16] - lo) * inverse + 0.5))
            y[8 + j] = (a & 0x0F) | (b & 0x0F) << 4
            qh |= UInt32((a & 0x10) >> 4) << UInt32(j) | UInt32((b & 0x10) >> 4) << UInt32(j + 16)
        }
        y.storeBytes(of: qh.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    // MARK: K formats (super-blocks of 256)

    /// ggml's `make_qkx2_quants`: an affine fit scale·L + min (min ≤ 0) of `n` values with
    /// levels 0…nmax, trying `nstep + 1` scales around nmax/(max − min) and keeping the one with
    /// the least weighted squared error. Returns (scale, −min) and fills `levels`.
    static func affineLevels(_ x: UnsafeBufferPointer<Float>, weights w: [Float], nmax: Int, rmin: Float, rdelta: Float, nstep: Int,
                             levels: inout [UInt8]) -> (scale: Float, min: Float) {
        let n = x.count
        var lo = x[0], hi = x[0], sumW = w[0], sumX = sumW * x[0]
        for i in 1..<n {
            if x[i] < lo { lo = x[i] }
            if x[i] > hi { hi = x[i] }
            sumW += w[i]
            sumX += w[i] * x[i]
        }
        if lo > 0 { lo = 0 }
        if hi == lo {
            for i in 0..<n { levels[i] = 0 }
            return (0, -lo)
        }
        var inverse = Float(nmax) / (hi - lo)
        var scale = 1 / inverse
        var bestError: Float = 0
        for i in 0..<n {
            let l = max(0, min(nmax, nearestInt(inverse * (x[i] - lo))))
            levels[i] = UInt8(l)
            let diff = scale * Float(l) + lo - x[i]
            bestError += w[i] * (diff * diff)
        }
        var auxiliary = [UInt8](repeating: 0, count: n)
        for step in 0...nstep {
            inverse = (rmin + rdelta * Float(step) + Float(nmax)) / (hi - lo)
            var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
            for i in 0..<n {
                let l = max(0, min(nmax, nearestInt(inverse * (x[i] - lo))))
                auxiliary[i] = UInt8(l)
                let fl = Float(l)
                sumL += w[i] * fl
                sumL2 += w[i] * fl * fl
                sumXL += w[i] * fl * x[i]
            }
            let determinant = sumW * sumL2 - sumL * sumL
            guard determinant > 0 else { continue }
            var thisScale = (sumW * sumXL - sumX * sumL) / determinant
            var thisMin = (sumL2 * sumX - sumL * sumXL) / determinant
            if thisMin > 0 {
                thisMin = 0
                thisScale = sumXL / sumL2
            }
            var error: Float = 0
            for i in 0..<n {
                let diff = thisScale * Float(auxiliary[i]) + thisMin - x[i]
                error += w[i] * (diff * diff)
            }
            if error < bestError {
                for i in 0..<n { levels[i] = auxiliary[i] }
                bestError = error
                scale = thisScale
                lo = thisMin
            }
        }
        return (scale, -lo)
    }

    /// Q4_K and Q5_K's shared part: 8 sub-blocks of 32 with affine fits, their scales and mins
    /// quantized to 6 bits against the super-block's d and dmin (f16), then every value requantized
    /// with the stored scales. Returns the levels 0…nmax of the 256 values.
    static func kScalesAndLevels(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer, nmax: Int, rmin: Float, rdelta: Float,
                                 nstep: Int) -> [UInt8] {
        var levels = [UInt8](repeating: 0, count: 256), sub = [UInt8](repeating: 0, count: 32)
        var scales = [Float](repeating: 0, count: 8), mins = [Float](repeating: 0, count: 8)
        var maxScale: Float = 0, maxMin: Float = 0
        var weights = [Float](repeating: 0, count: 32)
        for j in 0..<8 {
            let block = UnsafeBufferPointer(rebasing: x[(32 * j)..<(32 * j + 32)])
            var sumX2: Float = 0
            for v in block { sumX2 += v * v }
            let average = (sumX2 / 32).squareRoot()
            for l in 0..<32 { weights[l] = average + abs(block[l]) }
            let (scale, m) = affineLevels(block, weights: weights, nmax: nmax, rmin: rmin, rdelta: rdelta, nstep: nstep, levels: &sub)
            for l in 0..<32 { levels[32 * j + l] = sub[l] }
            scales[j] = scale
            mins[j] = m
            if scale > maxScale { maxScale = scale }
            if m > maxMin { maxMin = m }
        }
        let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0, inverseMin: Float = maxMin > 0 ? 63 / maxMin : 0
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0..<8 {
            let ls = min(63, UInt8(truncatingIfNeeded: nearestInt(inverseScale * scales[j])))
            let lm = min(63, UInt8(truncatingIfNeeded: nearestInt(inverseMin * mins[j])))
            if j < 4 {
                packed[j] = ls
                packed[j + 4] = lm
            } else {
                packed[j + 4] = (ls & 0x0F) | (lm & 0x0F) << 4
                packed[j - 4] |= (ls >> 4) << 6
                packed[j] |= (lm >> 4) << 6
            }
        }
        storeHalf(maxScale / 63, y)
        storeHalf(maxMin / 63, y, at: 2)
        for j in 0..<12 { y[4 + j] = packed[j] }
        let d = half(y, at: 0), dmin = half(y, at: 2)
        for j in 0..<8 {
            let (sc, m): (UInt8, UInt8) = j < 4
                ? (packed[j] & 63, packed[j + 4] & 63)
                : ((packed[j + 4] & 0x0F) | (packed[j - 4] >> 6) << 4, (packed[j + 4] >> 4) | (packed[j] >> 6) << 4)
            let ds = d * Float(sc)
            if ds == 0 { continue }
            let dm = dmin * Float(m)
            for i in 0..<32 { levels[32 * j + i] = UInt8(max(0, min(nmax, nearestInt((x[32 * j + i] + dm) / ds)))) }
        }
        return levels
    }

    /// Q4_K: d, dmin, scales[12], qs[128]; sub-block pairs share bytes (low nibble = first).
    static func q4_K(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let levels = kScalesAndLevels(x, y, nmax: 15, rmin: -1, rdelta: 0.1, nstep: 20)
        for pair in 0..<4 {
            for l in 0..<32 { y[16 + 32 * pair + l] = levels[64 * pair + l] | levels[64 * pair + l + 32] << 4 }
        }
    }

    /// Q5_K: d, dmin, scales[12], qh[32], qs[128]; bit 4 of the value in sub-block g goes to bit g of qh.
    static func q5_K(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        let levels = kScalesAndLevels(x, y, nmax: 31, rmin: -0.5, rdelta: 0.1, nstep: 15)
        for j in 0..<32 { y[16 + j] = 0 }
        for pair in 0..<4 {
            for l in 0..<32 {
                var a = levels[64 * pair + l], b = levels[64 * pair + l + 32]
                if a > 15 { a -= 16; y[16 + l] |= 1 << UInt8(2 * pair) }
                if b > 15 { b -= 16; y[16 + l] |= 2 << UInt8(2 * pair) }
                y[48 + 32 * pair + l] = a | b << 4
            }
        }
    }

    /// ggml's `make_qx_quants` with rmse_type 1 (weights x²): a symmetric fit of `n` values to
    /// levels −nmax…nmax−1 trying 19 scales; returns the scale and fills `levels` (offset by nmax).
    static func symmetricLevels(_ x: UnsafeBufferPointer<Float>, nmax: Int, levels: inout [Int]) -> Float {
        let n = x.count
        var amax: Float = 0, maximum: Float = 0
        for v in x where abs(v) > amax { amax = abs(v); maximum = v }
        if amax < 1e-15 {
            for i in 0..<n { levels[i] = 0 }
            return 0
        }
        var inverse = -Float(nmax) / maximum
        var sumLX: Float = 0, sumL2: Float = 0
        for i in 0..<n {
            let l = max(-nmax, min(nmax - 1, nearestInt(inverse * x[i])))
            levels[i] = l + nmax
            let w = x[i] * x[i], fl = Float(l)
            sumLX += w * x[i] * fl
            sumL2 += w * fl * fl
        }
        var scale: Float = sumL2 != 0 ? sumLX / sumL2 : 0
        var best = scale * sumLX
        for step in -9...9 where step != 0 {
            inverse = -(Float(nmax) + 0.1 * Float(step)) / maximum
            sumLX = 0
            sumL2 = 0
            for i in 0..<n {
                let l = max(-nmax, min(nmax - 1, nearestInt(inverse * x[i])))
                let w = x[i] * x[i], fl = Float(l)
                sumLX += w * x[i] * fl
                sumL2 += w * fl * fl
            }
            if sumL2 > 0, sumLX * sumLX > best * sumL2 {
                for i in 0..<n { levels[i] = nmax + max(-nmax, min(nmax - 1, nearestInt(inverse * x[i]))) }
                scale = sumLX / sumL2
                best = scale * sumLX
            }
        }
        return scale
    }

    /// Q6_K: ql[128], qh[64], scales[16] (int8), d (f16): 16 sub-blocks of 16, 6-bit levels.
    static func q6_K(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        var levels = [Int](repeating: 0, count: 256), sub = [Int](repeating: 0, count: 16)
        var scales = [Float](repeating: 0, count: 16)
        var maxScale: Float = 0, maxAbsScale: Float = 0
        for b in 0..<16 {
            let scale = symmetricLevels(UnsafeBufferPointer(rebasing: x[(16 * b)..<(16 * b + 16)]), nmax: 32, levels: &sub)
            for l in 0..<16 { levels[16 * b + l] = sub[l] }
            scales[b] = scale
            if abs(scale) > maxAbsScale { maxAbsScale = abs(scale); maxScale = scale }
        }
        if maxAbsScale < 1e-15 {
            for i in 0..<210 { y[i] = 0 }
            return
        }
        let inverse = -128 / maxScale
        storeHalf(1 / inverse, y, at: 208)
        for b in 0..<16 { y[192 + b] = UInt8(bitPattern: Int8(truncatingIfNeeded: min(127, nearestInt(inverse * scales[b])))) }
        let d = half(y, at: 208)
        for j in 0..<16 {
            let ds = d * Float(Int8(bitPattern: y[192 + j]))
            if ds == 0 { continue }
            for i in 0..<16 { levels[16 * j + i] = max(-32, min(31, nearestInt(x[16 * j + i] / ds))) + 32 }
        }
        for half in 0..<2 {
            let j = 128 * half, ql = 64 * half, qh = 128 + 32 * half
            for l in 0..<32 {
                let q1 = levels[j + l], q2 = levels[j + l + 32], q3 = levels[j + l + 64], q4 = levels[j + l + 96]
                y[ql + l] = UInt8((q1 & 0x0F) | (q3 & 0x0F) << 4)
                y[ql + l + 32] = UInt8((q2 & 0x0F) | (q4 & 0x0F) << 4)
                y[qh + l] = UInt8((q1 >> 4) | (q2 >> 4) << 2 | (q3 >> 4) << 4 | (q4 >> 4) << 6)
            }
        }
    }
}
