/// Dequantization of ggml block formats to f32, bit-exact with gguf-py's `dequantize` (the
/// reference kernels of ggml-quants.c written in NumPy): every product and sum is done in f32 in
/// the same order, without fused multiply-add.
public enum Dequantizer {
    /// Dequantizes `count` elements of `type` from `source` into `destination`.
    /// - Precondition: `type.canDequantize`, `count` is a whole number of blocks,
    ///   `source` holds `type.byteCount(elements: count)` bytes and `destination` `count` floats.
    /// - Complexity: O(count).
    public static func dequantize(_ type: GGMLType, _ source: UnsafeRawBufferPointer, count: Int,
                                  into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(type.canDequantize, "\(type) cannot be dequantized")
        precondition(count % type.blockSize == 0 && destination.count >= count, "whole blocks only")
        precondition(source.count >= type.byteCount(elements: count) ?? .max, "source too short")
        let blocks = count / type.blockSize
        let out = destination.baseAddress!
        for b in 0..<blocks {
            let block = UnsafeRawBufferPointer(rebasing: source[(b * type.typeSize)..<((b + 1) * type.typeSize)])
            let y = out + b * type.blockSize
            switch type {
            case .f32: y[0] = Float(bitPattern: u32(block, 0))
            case .f16: y[0] = HalfPrecision.float(half: u16(block, 0))
            case .bf16: y[0] = HalfPrecision.float(bfloat: u16(block, 0))
            case .q4_0: q4_0(block, y)
            case .q4_1: q4_1(block, y)
            case .q5_0: q5_0(block, y)
            case .q5_1: q5_1(block, y)
            case .q8_0: q8_0(block, y)
            case .q2_K: q2_K(block, y)
            case .q3_K: q3_K(block, y)
            case .q4_K: q4_K(block, y)
            case .q5_K: q5_K(block, y)
            case .q6_K: q6_K(block, y)
            case .q8_K: q8_K(block, y)
            case .q8_1, .i8, .i16, .i32, .i64, .f64: break
            }
        }
    }

    /// Dequantizes a whole tensor's bytes into a new array.
    public static func dequantize(_ type: GGMLType, _ source: UnsafeRawBufferPointer, count: Int) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            dequantize(type, source, count: count, into: buffer)
            initialized = count
        }
    }

    @inline(__always) static func u8(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt8 { b[i] }
    @inline(__always) static func u16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 {
        UInt16(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt16.self))
    }
    @inline(__always) static func u32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i, as: UInt32.self))
    }
    @inline(__always) static func half(_ b: UnsafeRawBufferPointer, _ i: Int) -> Float { HalfPrecision.float(half: u16(b, i)) }

    // 32-element formats: element j < 16 is the low nibble of qs[j], element j + 16 the high one.

    static func q4_0(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<16 {
            let q = b[2 + j]
            y[j] = d * Float(Int(q & 0x0F) - 8)
            y[j + 16] = d * Float(Int(q >> 4) - 8)
        }
    }

    static func q4_1(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), m = half(b, 2)
        for j in 0..<16 {
            let q = b[4 + j]
            y[j] = d * Float(q & 0x0F) + m
            y[j + 16] = d * Float(q >> 4) + m
        }
    }

    static func q5_0(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), qh = u32(b, 2)
        for j in 0..<16 {
            let q = b[6 + j]
            let lo = Int(q & 0x0F) | Int((qh >> UInt32(j)) & 1) << 4
            let hi = Int(q >> 4) | Int((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(lo - 16)
            y[j + 16] = d * Float(hi - 16)
        }
    }

    static func q5_1(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), m = half(b, 2), qh = u32(b, 4)
        for j in 0..<16 {
            let q = b[8 + j]
            let lo = UInt32(q & 0x0F) | ((qh >> UInt32(j)) & 1) << 4
            let hi = UInt32(q >> 4) | ((qh >> UInt32(j + 16)) & 1) << 4
            y[j] = d * Float(lo) + m
            y[j + 16] = d * Float(hi) + m
        }
    }

    static func q8_0(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0)
        for j in 0..<32 { y[j] = Float(Int8(bitPattern: b[2 + j])) * d }
    }

    // 256-element K formats.

    /// Q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2 bits), d, dmin.
    static func q2_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 80), dmin = half(b, 82)
        for e in 0..<256 {
            let group = e / 16
            let sc = b[group]
            let dl = d * Float(sc & 0x0F), ml = dmin * Float(sc >> 4)
            let bit = e / 32, l = e % 32
            let q = (b[16 + (bit / 4) * 32 + l] >> UInt8(2 * (bit % 4))) & 3
            y[e] = dl * Float(q) - ml
        }
    }

    /// Q3_K: hmask[32], qs[64] (2 low bits), scales[12] (16 six-bit scales), d.
    static func q3_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 108)
        var scales = [Float](repeating: 0, count: 16)
        for i in 0..<16 {
            let low = i < 8 ? b[96 + i] & 0x0F : b[96 + i - 8] >> 4
            let high = (b[96 + 8 + i % 4] >> UInt8(2 * (i / 4))) & 0x03
            scales[i] = Float(Int(low | high << 4) - 32)
        }
        for e in 0..<256 {
            let bit = e / 32, l = e % 32
            let low = Int((b[32 + (bit / 4) * 32 + l] >> UInt8(2 * (bit % 4))) & 3)
            let h = Int((b[l] >> UInt8(bit)) & 1)
            let q = low - ((h ^ 1) << 2)
            y[e] = (d * scales[e / 16]) * Float(q)
        }
    }

    /// The 6-bit scales and mins of Q4_K/Q5_K (12 bytes at `offset`).
    @inline(__always)
    static func scaleMin(_ b: UnsafeRawBufferPointer, _ offset: Int, _ j: Int) -> (UInt8, UInt8) {
        if j < 4 {
            return (b[offset + j] & 63, b[offset + j + 4] & 63)
        }
        let sc = (b[offset + j + 4] & 0x0F) | ((b[offset + j - 4] >> 2) & 0x30)
        let m = (b[offset + j + 4] >> 4) | ((b[offset + j] >> 2) & 0x30)
        return (sc, m)
    }

    /// Q4_K: d, dmin, scales[12], qs[128] (4 bits).
    static func q4_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        for e in 0..<256 {
            let group = e / 32, l = e % 32
            let (sc, m) = scaleMin(b, 4, group)
            let q = (b[16 + (group / 2) * 32 + l] >> UInt8(4 * (group % 2))) & 0x0F
            y[e] = (d * Float(sc)) * Float(q) - dmin * Float(m)
        }
    }

    /// Q5_K: d, dmin, scales[12], qh[32], qs[128].
    static func q5_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 0), dmin = half(b, 2)
        for e in 0..<256 {
            let group = e / 32, l = e % 32
            let (sc, m) = scaleMin(b, 4, group)
            let low = (b[48 + (group / 2) * 32 + l] >> UInt8(4 * (group % 2))) & 0x0F
            let high = (b[16 + l] >> UInt8(group)) & 1
            y[e] = (d * Float(sc)) * Float(low | high << 4) - dmin * Float(m)
        }
    }

    /// Q6_K: ql[128] (4 low bits), qh[64] (2 high bits), scales[16] (int8), d.
    static func q6_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = half(b, 208)
        for e in 0..<256 {
            let halfIndex = e / 128, r = e % 128
            let low = (b[halfIndex * 64 + r % 64] >> UInt8(4 * (r / 64))) & 0x0F
            let high = (b[128 + halfIndex * 32 + r % 32] >> UInt8(2 * (r / 32))) & 0x03
            let q = Int(low | high << 4) - 32
            y[e] = (d * Float(Int8(bitPattern: b[192 + e / 16]))) * Float(q)
        }
    }

    /// Q8_K: d (f32), qs[256] (int8), bsums[16] (unused here).
    static func q8_K(_ b: UnsafeRawBufferPointer, _ y: UnsafeMutablePointer<Float>) {
        let d = Float(bitPattern: u32(b, 0))
        for e in 0..<256 { y[e] = d * Float(Int8(bitPattern: b[4 + e])) }
    }
}
