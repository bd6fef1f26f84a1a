import AssayTensor
import Testing

/// The integer GEMMs of long batches with ggml numerics (`assay_gemm_integer_parallel`), and
/// integer products at the ends of their ranges, in ``QuantizedKernelTests``' serialized suite
/// (they switch the kernels' SIMD level for the whole process).
extension QuantizedKernelTests {
    /// A long batch with ggml numerics meets Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and Q2_K–Q6_K weights in integer
    /// block products: each output one chain over the blocks, acc = fma(d_w · d_a, Σ q·a, acc)
    /// (Q4_1 then fma(m_w, s_a, acc), Q2_K and Q4_K fma(−dmin_w · d_a, Σ m·Σa, acc)), so the same bits in
    /// the AVX-512, AVX2 and portable kernels (and, for Q4_0 and Q4_1, as that chain written out
    /// here), for any thread count (301 rows: groups of 8 or 16 split unevenly, a short last
    /// group) and whichever activation rows share the batch (37 and 33 rows: a short last group
    /// of activation rows) — and within rounding of the float64 product of what the kernels see.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func longGGMLBatchesMultiplyInIntegers(type: GGMLType) throws {
        #expect(QuantizedKernels.multipliesInIntegers(type))
        let rows = 301, columns = 512, m = 37
        let w = Self.matrix(type, rows: rows, columns: columns, seed: 81)
        let x = Self.activations(m * columns, seed: 82)
        let activationType = try #require(QuantizedKernels.activationType(for: type))
        let saved = Threads.count
        defer {
            Threads.count = saved
            QuantizedKernels.forcePortable(false)
        }
        QuantizedKernels.forcePortable(true)
        Threads.count = 1
        let portable = w.linear(x, rows: m, ggml: true)
        for a in 0..<m {
            let q = QuantizedKernels.quantizeActivations(Array(x[(a * columns)..<((a + 1) * columns)]), as: activationType)
            let dequantizedActivations = Self.dequantizeActivations(q, type: activationType, count: columns)
            let (expected, magnitude) = Self.reference(w.dequantized(), dequantizedActivations, rows: rows)
            // q8_1's block sum is stored as f16: the min term carries its rounding (2⁻¹¹ relative).
            let tolerance = activationType == .q8_1 ? 2e-3 : 1e-5
            for r in 0..<rows where abs(Double(portable[a * rows + r]) - expected[r]) > tolerance * magnitude[r] {
                Issue.record("\(type) activation row \(a), output \(r): \(portable[a * rows + r]) against \(expected[r])")
            }
            if type == .q4_0 || type == .q4_1 {
                let chains = (0..<rows).map { Self.q4Chain(type, weights: w, row: $0, activations: q) }
                #expect(Array(portable[(a * rows)..<((a + 1) * rows)]) == chains, "\(type) activation row \(a)")
            }
        }
        func differing(_ a: [Float], _ b: ArraySlice<Float>) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
        for simd in [false, true] {
            QuantizedKernels.forcePortable(!simd)
            for threads in [1, 2, 3] where simd || threads > 1 {
                Threads.count = threads
                #expect(differing(w.linear(x, rows: m, ggml: true), portable[...]) == 0, "\(type), SIMD \(simd), \(threads) threads")
            }
        }
        QuantizedKernels.forcePortable(false)
        // AVX2's groups of eight rows where the CPU would take sixteen with AVX-512.
        if QuantizedKernels.integerLanes == 16 {
            QuantizedKernels.forceAVX2(true)
            defer { QuantizedKernels.forceAVX2(false) }
            #expect(QuantizedKernels.integerLanes == 8)
            #expect(differing(w.linear(x, rows: m, ggml: true), portable[...]) == 0, "\(type), AVX2 on an AVX-512 CPU")
        }
        let some = w.linear(Array(x[(4 * columns)..<(37 * columns)]), rows: 33, ggml: true)
        #expect(differing(some, portable[(4 * rows)...]) == 0, "\(type): 33 of the 37 activation rows")
    }

    /// One output of a Q4_0 or Q4_1 row against q8_0/q8_1 activation blocks: Σ over blocks of
    /// fma(d_w · d_a, Σ q·a, acc), then for Q4_1 fma(m_w, s_a, acc), with q − 8 for Q4_0.
    static func q4Chain(_ type: GGMLType, weights w: WeightMatrix, row r: Int, activations q: [UInt8]) -> Float {
        let bytes = Array(w.bytes[(r * w.rowBytes)..<((r + 1) * w.rowBytes)])
        let (wb, ab, wv, av) = type == .q4_1 ? (20, 36, 4, 4) : (18, 34, 2, 2)
        func half(_ b: [UInt8], _ at: Int) -> Float { Float(Float16(bitPattern: UInt16(b[at]) | UInt16(b[at + 1]) << 8)) }
        var acc: Float = 0
        for i in 0..<(w.columns / 32) {
            let (wBase, aBase) = (i * wb, i * ab)
            var sum = 0
            for j in 0..<16 {
                let byte = bytes[wBase + wv + j], offset = type == .q4_0 ? 8 : 0
                sum += (Int(byte & 0x0F) - offset) * Int(Int8(bitPattern: q[aBase + av + j]))
                    + (Int(byte >> 4) - offset) * Int(Int8(bitPattern: q[aBase + av + j + 16]))
            }
            acc.addProduct(half(bytes, wBase) * half(q, aBase), Float(sum))
            if type == .q4_1 { acc.addProduct(half(bytes, wBase + 2), half(q, aBase + 2)) }
        }
        return acc
    }

    /// Every weight at its largest stored value (every bit of the values set; d = 2⁻¹⁰, mins 0)
    /// against activations that quantize to 127 everywhere: the integer GEMM's 16-bit partial sums
    /// at their bounds (four steps of 2 · 31 · 127 for the 5-bit types, eight of 2 · 15 · 127 for
    /// the 4-bit ones, four of 2 · 7 · 127 for Q3_K; Q3_K's scales at 31, Q2_K's at 15). A partial sum that wrapped would differ from the portable chain and from
    /// the float64 product; so would a decode kernel that did.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func integerSumsHoldAtTheirBounds(type: GGMLType) throws {
        let rows = 19, columns = 512, m = 37
        let blocks = rows * columns / type.blockSize
        var bytes = [UInt8](repeating: 0xFF, count: blocks * type.typeSize)
        // Where each block keeps its f16 scale and, where it has one, its f16 minimum.
        let (scale, minimum): (Int, Int?) = switch type {
        case .q6_K: (208, nil)
        case .q3_K: (108, nil)
        case .q2_K: (80, 82)
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
