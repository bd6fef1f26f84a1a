/// How ggml's CPU kernels round the activations that meet a weight in a matrix product: each
/// weight type has a "vec_dot type" the other operand is converted to first (llama.cpp quantizes
/// activations inside quantized products). Applying the same rounding to f32 activations and then
/// multiplying f32 matrices reproduces those products up to summation order.
public enum ActivationRounding: Sendable, Equatable {
    /// f32 weights: activations stay f32.
    case none
    /// F16 weights: activations rounded to f16.
    case f16
    /// BF16 weights: activations rounded to bf16.
    case bf16
    /// Q4_0, Q5_0, Q8_0 weights: Q8_0 blocks of 32 (d = amax/127 stored as f16, q = round(x/d)).
    case q8_0
    /// Q4_1, Q5_1 weights: Q8_1 blocks of 32 (the same values as Q8_0; the block sum it also
    /// stores only changes rounding).
    case q8_1
    /// K-quant weights: Q8_K blocks of 256 (d = −max/127 of the largest-magnitude value, f32).
    case q8_K

    /// The rounding ggml applies to activations multiplied with weights of `type`.
    public static func forWeights(_ type: GGMLType) -> ActivationRounding {
        switch type {
        case .f16: .f16
        case .bf16: .bf16
        case .q4_0, .q5_0, .q8_0: .q8_0
        case .q4_1, .q5_1: .q8_1
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: .q8_K
        default: .none
        }
    }

    /// `x` (rows of `rowLength` values) after the rounding.
    public func apply(_ x: [Float], rowLength: Int) -> [Float] {
        switch self {
        case .none: return x
        case .f16: return Self.f16(x)
        case .bf16: return x.map { Self.bf16($0) }
        case .q8_0, .q8_1: return Self.blocks(x, size: 32, rowLength: rowLength, kBlock: false)
        case .q8_K: return Self.blocks(x, size: 256, rowLength: rowLength, kBlock: true)
        }
    }

    /// Every value rounded to f16 (nearest, ties to even), split across the pool.
    static func f16(_ x: [Float]) -> [Float] {
        guard !x.isEmpty else { return [] }
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            let o = out.baseAddress!
            x.withUnsafeBufferPointer { px in
                Threads.forEachRange(of: x.count, rowLength: 1) { range in
                    for i in range { o[i] = Float(Float16(px[i])) }
                }
            }
            initialized = x.count
        }
    }

    /// Round-to-nearest-even to bfloat16, as ggml's `GGML_FP32_TO_BF16`.
    static func bf16(_ x: Float) -> Float {
        let bits = x.bitPattern
        if x.isNaN { return x }
        let rounded = (bits &+ (0x7FFF &+ ((bits >> 16) & 1))) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }

    static func blocks(_ x: [Float], size: Int, rowLength: Int, kBlock: Bool) -> [Float] {
        precondition(rowLength % size == 0 && x.count % rowLength == 0, "rows must hold whole blocks")
        var out = x
        out.withUnsafeMutableBufferPointer { y in
            for start in stride(from: 0, to: y.count, by: size) {
                if kBlock {
                    // quantize_row_q8_K: the value of largest magnitude, with its sign.
                    var maximum: Float = 0, amax: Float = 0
                    for i in start..<(start + size) where abs(y[i]) > amax { amax = abs(y[i]); maximum = y[i] }
                    guard amax != 0 else { for i in start..<(start + size) { y[i] = 0 }; continue }
                    let inverse = -127 / maximum, d = 1 / inverse
                    for i in start..<(start + size) { y[i] = d * min(127, (inverse * y[i]).rounded(.toNearestOrEven)) }
                } else {
                    // quantize_row_q8_0 / q8_1: d = amax/127, q = round(x/d), d kept as f16.
                    var amax: Float = 0
                    for i in start..<(start + size) { amax = max(amax, abs(y[i])) }
                    let d = amax / 127, inverse = d != 0 ? 1 / d : 0
                    let stored = Float(Float16(d))
                    for i in start..<(start + size) { y[i] = stored * (y[i] * inverse).rounded(.toNearestOrEven) }
                }
            }
        }
        return out
    }
}
