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
}
