import AssayTensor
import Testing

/// Integer products at the ends of their ranges, in ``QuantizedKernelTests``' serialized suite
/// (they switch the kernels' SIMD level for the whole process).
extension QuantizedKernelTests {
    /// Every weight at its largest stored value (every bit of the values set; d = 2⁻¹⁰, mins 0)
    /// against activations that quantize to 127 everywhere: the integer GEMM's 16-bit partial sums
    /// at their bounds (four steps of 2 · 31 · 127 for the 5-bit types, eight of 2 · 15 · 127 for
    /// the 4-bit ones). A partial sum that wrapped would differ from the portable chain and from
    /// the float64 product; so would a decode kernel that did.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K])
    func integerSumsHoldAtTheirBounds(type: GGMLType) throws {
        let rows = 19, columns = 512, m = 37
        let blocks = rows * columns / type.blockSize
        var bytes = [UInt8](repeating: 0xFF, count: blocks * type.typeSize)
        // Where each block keeps its f16 scale and, where it has one, its f16 minimum.
        let (scale, minimum): (Int, Int?) = switch type {
        case .q6_K: (208, nil)
        case .q4_1, .q5_1, .q4_K, .q5_K: (0, 2)
        default: (0, nil)
        }
        for b in 0..<blocks {
            bytes[b * type.typeSize + scale] = 0x00
            bytes[b * type.typeSize + scale + 1] = 0x14  // 2⁻¹⁰
            if let minimum {
                bytes[b * type.typeSize + minimum] = 0
                bytes[b * type.typeSize + minimum + 1] = 0
            }
        }
        let w = try #require(WeightMatrix(type: type, rows: rows, columns: columns, copying: bytes))
        let x = [Float](repeating: 1, count: m * columns)
        let activationType = try #require(QuantizedKernels.activationType(for: type))
        let q = QuantizedKernels.quantizeActivations(Array(x[0..<columns]), as: activationType)
        let (expected, magnitude) = Self.reference(w.dequantized(), Self.dequantizeActivations(q, type: activationType, count: columns), rows: rows)
        defer {
            QuantizedKernels.forcePortable(false)
            QuantizedKernels.forceAVX2(false)
        }
        // The CPU's kernels, AVX2's on a CPU with AVX-512 (whose 32-value blocks take vpdpbusd
        // instead of 16-bit sums), and the portable ones.
        for (portable, avx2) in [(false, false), (false, true), (true, false)] {
            QuantizedKernels.forcePortable(portable)
            QuantizedKernels.forceAVX2(avx2)
            for batch in [1, m] {
                let y = w.linear(Array(x[0..<(batch * columns)]), rows: batch, ggml: true)
                for a in 0..<batch {
                    for r in 0..<rows where abs(Double(y[a * rows + r]) - expected[r]) > 1e-5 * magnitude[r] {
                        Issue.record("\(type) portable \(portable), AVX2 \(avx2), \(batch) rows: output \(a), \(r) is \(y[a * rows + r]), not \(expected[r])")
                    }
                }
            }
        }
    }
}
