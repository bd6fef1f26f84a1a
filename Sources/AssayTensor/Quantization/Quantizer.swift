/// Quantization of f32 values to ggml block formats, bit-exact with ggml's reference quantizers
/// (`quantize_row_*_ref` in ggml-quants.c; gguf-py's `quants.quantize` computes the same bytes).
public enum Quantizer {
    /// The formats this quantizer writes.
    public static let supportedTypes: [GGMLType] = [.q8_0, .q4_0]

    /// The blocks of `values` in `type`.
    /// - Precondition: `type` is in ``supportedTypes`` and `values.count` is a whole number of blocks.
    public static func quantize(_ values: [Float], as type: GGMLType) -> [UInt8] {
        precondition(supportedTypes.contains(type), "\(type) cannot be quantized yet")
        precondition(values.count % type.blockSize == 0, "whole blocks only")
        let blocks = values.count / type.blockSize
        var out = [UInt8](repeating: 0, count: blocks * type.typeSize)
        values.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBytes { y in
                for b in 0..<blocks {
                    let block = UnsafeMutableRawBufferPointer(rebasing: y[(b * type.typeSize)..<((b + 1) * type.typeSize)])
                    let source = UnsafeBufferPointer(rebasing: x[(b * 32)..<((b + 1) * 32)])
                    switch type {
                    case .q8_0: q8_0(source, block)
                    case .q4_0: q4_0(source, block)
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

    static func storeHalf(_ value: Float, _ y: UnsafeMutableRawBufferPointer) {
        y.storeBytes(of: Float16(value).bitPattern.littleEndian, toByteOffset: 0, as: UInt16.self)
    }

    /// d = amax/127 (f16), q = round(x/d), rounding halves away from zero (C `roundf`).
    static func q8_0(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        var amax: Float = 0
        for v in x { amax = max(amax, abs(v)) }
        let d = amax / 127, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        for j in 0..<32 { y[2 + j] = UInt8(bitPattern: Int8((x[j] * inverse).rounded(.toNearestOrAwayFromZero))) }
    }

    /// d = m/−8 for the value m of largest magnitude (f16), q = min(15, trunc(x/d + 8.5)); element
    /// j in the low nibble of byte j, element j + 16 in its high nibble.
    static func q4_0(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableRawBufferPointer) {
        var amax: Float = 0, maximum: Float = 0
        for v in x where amax < abs(v) { amax = abs(v); maximum = v }
        let d = maximum / -8, inverse = d != 0 ? 1 / d : 0
        storeHalf(d, y)
        for j in 0..<16 {
            let low = min(15, Int8(truncatingIfNeeded: Int(x[j] * inverse + 8.5)))
            let high = min(15, Int8(truncatingIfNeeded: Int(x[j + 16] * inverse + 8.5)))
            y[2 + j] = UInt8(low) | UInt8(high) << 4
        }
    }
}
