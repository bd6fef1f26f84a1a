import CAssayKernels

/// IEEE half and bfloat16 to single precision, bit-exact with NumPy's `float16 → float32` cast
/// (the reference gguf-py uses): subnormals are normalised, NaN payloads are shifted, not quieted.
public enum HalfPrecision {
    /// The float32 bit pattern of the IEEE 754 half with bits `h`.
    @inlinable
    public static func floatBits(half h: UInt16) -> UInt32 {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x03FF)
        switch exponent {
        case 0:
            guard mantissa != 0 else { return sign }
            // Subnormal: normalise.
            var e: UInt32 = 113  // 127 − 15 + 1
            var m = mantissa
            while m & 0x0400 == 0 {
                m <<= 1
                e -= 1
            }
            return sign | (e << 23) | ((m & 0x03FF) << 13)
        case 0x1F:
            return sign | 0x7F80_0000 | (mantissa << 13)
        default:
            return sign | ((exponent + 112) << 23) | (mantissa << 13)
        }
    }

    /// The half with bits `h` as a Float.
    @inlinable
    public static func float(half h: UInt16) -> Float { Float(bitPattern: floatBits(half: h)) }

    /// The bfloat16 with bits `b` as a Float (the upper half of a float32).
    @inlinable
    public static func float(bfloat b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

    /// Appends `x` rounded to the nearest half (ties to even; beyond ±65504 to ±infinity), as bit
    /// patterns — what ggml's f16 KV cache stores.
    public static func appendHalves(of x: [Float], to halves: inout [UInt16]) {
        // (No reserveCapacity: an exact reservation per decode step would defeat the array's doubling.)
        halves.append(contentsOf: x.lazy.map { Float16($0).bitPattern })
    }

    /// The halves with bits `halves` as floats (F16C where the CPU has it; the same values as
    /// ``float(half:)``).
    public static func floats(halves: [UInt16]) -> [Float] {
        [Float](unsafeUninitializedCapacity: halves.count) { buffer, initialized in
            halves.withUnsafeBufferPointer { h in
                if h.count > 0 {
                    _ = assay_dequantize_row(Int32(GGMLType.f16.rawValue), h.baseAddress!, buffer.baseAddress!, Int64(h.count))
                }
            }
            initialized = halves.count
        }
    }
}
