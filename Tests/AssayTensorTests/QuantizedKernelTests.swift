import AssayCore
import AssayTensor
import Foundation
import Testing

/// The C kernels behind ``WeightMatrix``: dequantization bit-identical to gguf-py (through the
/// same goldens as ``Dequantizer``), matrix-vector products equal to a float64 reference within
/// rounding, the AVX2 kernels equal to the portable ones, activation quantization as ggml's x86
/// build writes it, and batches through sgemm equal to sgemm on the dequantized matrix.
@Suite(.serialized)
struct QuantizedKernelTests {
    static let matrixTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K]

    @Test(arguments: DequantizerTests.cases.map(\.type))
    func dequantizedRowsMatchGGUFPy(type name: String) throws {
        let c = try #require(DequantizerTests.cases.first { $0.type == name })
        let type = try #require(GGMLType(rawValue: c.type_id))
        let bytes = DequantizerTests.bytes(c.bytes)
        let matrix = try #require(WeightMatrix(type: type, rows: 1, columns: c.expected_bits.count, copying: bytes))
        #expect(matrix.row(0).map(\.bitPattern) == c.expected_bits)
    }

    /// A rows × columns matrix of `type` with weights near N(0, 1): quantized by ``Quantizer``
    /// where it can, else random blocks with sane scales.
    static func matrix(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> WeightMatrix {
        var generator = SeededGenerator(seed: seed)
        let values = (0..<(rows * columns)).map { _ in Float.random(in: -1...1, using: &generator) * Float.random(in: 0...2, using: &generator) }
        switch type {
        case .f32: return WeightMatrix(values: values, rows: rows, columns: columns)
        case .f16: return WeightMatrix(type: .f16, rows: rows, columns: columns,
                                       copying: values.flatMap { v in withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { Array($0) } })!
        case .bf16: return WeightMatrix(type: .bf16, rows: rows, columns: columns,
                                        copying: values.flatMap { v in withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { Array($0) } })!
        case _ where Quantizer.supportedTypes.contains(type):
            return WeightMatrix(type: type, rows: rows, columns: columns, copying: Quantizer.quantize(values, as: type))!
        default:
            // Q2_K and Q3_K: random quantized values and scales; the f16 super-block scales set small.
            let blocks = rows * columns / 256
            var bytes = (0..<(blocks * type.typeSize)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let halves = type == .q2_K ? [80, 82] : [108]
            for block in 0..<blocks {
                for offset in halves {
                    let scale = Float16(Float.random(in: 0.001...0.05, using: &generator)).bitPattern
                    bytes[block * type.typeSize + offset] = UInt8(scale & 0xFF)
                    bytes[block * type.typeSize + offset + 1] = UInt8(scale >> 8)
                }
            }
            return WeightMatrix(type: type, rows: rows, columns: columns, copying: bytes)!
        }
    }

    static func activations(_ count: Int, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in Float.random(in: -3...3, using: &generator) }
    }

    /// Σ|w·x| per row: the scale rounding errors are measured against.
    static func reference(_ w: [Float], _ x: [Float], rows: Int) -> (values: [Double], magnitudes: [Double]) {
        let k = x.count
        var values = [Double](repeating: 0, count: rows), magnitudes = values
        for r in 0..<rows {
            for j in 0..<k {
                let p = Double(w[r * k + j]) * Double(x[j])
                values[r] += p
                magnitudes[r] += abs(p)
            }
        }
        return (values, magnitudes)
    }

    @Test(arguments: matrixTypes)
    func exactProductsMatchFloat64(type: GGMLType) {
        let rows = 37, columns = 512
        let w = Self.matrix(type, rows: rows, columns: columns, seed: 11)
        let x = Self.activations(columns, seed: 12)
        let (expected, magnitude) = Self.reference(w.dequantized(), x, rows: rows)
        for portable in [false, true] {
            QuantizedKernels.forcePortable(portable)
            let y = w.linear(x, rows: 1)
            for r in 0..<rows { #expect(abs(Double(y[r]) - expected[r]) <= 1e-5 * magnitude[r], "\(type) row \(r) portable \(portable)") }
        }
        QuantizedKernels.forcePortable(false)
    }

    /// The exact AVX2 decode kernels run blocks four (Q4_0, Q4_1) or two (Q8_0) at a step and read
    /// activations scaled by 2^−8t: every remainder of blocks, and activations over 40 orders of
    /// magnitude (the smallest subnormal once scaled: they lose bits, which the row's larger terms
    /// swamp, so this checks that nothing else goes wrong with them), against the portable kernels too.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func exactProductsHoldAtEveryBlockRemainderAndScale(type: GGMLType) {
        let blockValues = type.blockSize
        var generator = SeededGenerator(seed: 21)
        for blocks in [1, 2, 3, 4, 5, 6, 7, 18] {
            let rows = 5, columns = blocks * blockValues
            let w = Self.matrix(type, rows: rows, columns: columns, seed: UInt64(blocks))
            let x = (0..<columns).map { _ in
                Float.random(in: -1...1, using: &generator) * Float(pow(10, Double(Int.random(in: -36...4, using: &generator))))
            }
            let (expected, magnitude) = Self.reference(w.dequantized(), x, rows: rows)
            for portable in [false, true] {
                QuantizedKernels.forcePortable(portable)
                let y = w.linear(x, rows: 1)
                for r in 0..<rows {
                    #expect(abs(Double(y[r]) - expected[r]) <= 1e-5 * magnitude[r], "\(type) \(blocks) blocks row \(r) portable \(portable)")
                }
            }
            QuantizedKernels.forcePortable(false)
        }
    }

    /// With AVX-512 VNNI and VBMI, exact Q4_0, Q4_1, Q4_K, Q5_K and Q6_K products split each block's
    /// f32 activations into four 8-bit limbs for integer products (avx512_exact.c), a value above 16
    /// times its block's mean magnitude taken out and met in float. They stay within f32 rounding:
    /// within 1e-7 of Σ|w·x| of a float64 reference on rows of 2,048 and 5,632 values (Q4_K 1.5e-7):
    /// over activations spread across 12 orders of magnitude (at most 7.2e-8, the float kernel 4–9e-8,
    /// three limbs 1.9–2.1e-7; Q4_K 9.9e-8 and 9.1e-8, without its last limb 5.0–5.5e-7; Q5_K 7.6e-8
    /// and 1.3e-7; Q6_K 7.8e-8 and 4.0e-8, with limbs 2 and 3's −32·Σl start left out 4–10e-5), and
    /// with every third block's value 5 at 10^4 times the rest and its weight 0 (at most 7.9e-8; kept
    /// in the limbs 1.1–2.4e-5 for Q4_0, and the float kernel itself 1–16e-6), and with such a value in
    /// every block over a weight that is not 0 (at most 4.2e-8, the float kernel 5e-8–8e-5; with the
    /// outliers' terms rounded one by one, up to 1.8e-7). Zero blocks give nothing, and a product with
    /// a value the limbs cannot carry (NaN, an infinity, a magnitude above 2^60, a block whose largest
    /// magnitude, its outlier aside, is below 2^−60) takes the float kernel: its bits.
    @Test(arguments: [GGMLType.q4_0, .q4_1, .q4_K, .q5_K, .q6_K])
    func exactProductsThroughLimbsKeepF32Accuracy(type: GGMLType) {
        guard QuantizedKernels.splitsExactActivations(type) else {
            print("skipped: this CPU has no AVX-512 VNNI and VBMI, so exact \(type) products convert every weight to float")
            return
        }
        defer { QuantizedKernels.forceAVX2(false) }
        let rows = 48
        for columns in [2048, 5632, type.blockSize == 256 ? 768 : 96] {
            var generator = SeededGenerator(seed: UInt64(columns))
            var values = (0..<(rows * columns)).map { _ in Float.random(in: -1...1, using: &generator) * Float.random(in: 0...2, using: &generator) }
            let spikes = stride(from: 0, to: columns, by: 96).map { $0 + 5 }
            for r in 0..<rows { for j in spikes { values[r * columns + j] = 0 } }
            let w = WeightMatrix(type: type, rows: rows, columns: columns, copying: Quantizer.quantize(values, as: type))!
            var spread = (0..<columns).map { _ in
                Float.random(in: -1...1, using: &generator) * Float(pow(10, Double(Int.random(in: -6...6, using: &generator))))
            }
            for j in 32..<64 { spread[j] = 0 }  // a block of zeros
            var spiking = (0..<columns).map { _ in Float.random(in: -1...1, using: &generator) }
            for j in spikes { spiking[j] *= 10_000 }
            // An outlier in every block, over weights that are not zero: their terms are summed apart.
            var outlying = (0..<columns).map { _ in Float.random(in: -1...1, using: &generator) }
            for b in 0..<(columns / 32) { outlying[32 * b + 7 + b % 19] *= 10_000 }
            // Q4_0's and Q4_1's 96 columns are three blocks (a group's remainder): a few terms of
            // 10^±6, so roundings weigh more against Σ|w·x| (the float kernel's up to 5.1e-7).
            // Q4_K's min terms cancel against its scaled sums, which leaves both kernels near 1e-7
            // of Σ|w·x| at every length (the float kernel up to 9.1e-8).
            let bound = type == .q4_K ? 1.5e-7 : columns < 2048 && type.blockSize == 32 ? 1e-6 : 1e-7
            for (name, x) in [("spread", spread), ("spiking", spiking), ("outlying", outlying)] {
                let (expected, magnitude) = Self.reference(w.dequantized(), x, rows: rows)
                QuantizedKernels.forceAVX2(true)
                let float = w.linear(x, rows: 1)
                QuantizedKernels.forceAVX2(false)
                let split = w.linear(x, rows: 1)
                #expect(split != float, "\(type) \(columns) columns, \(name): the float kernel's bits, not the limbs'")
                for r in 0..<rows {
                    #expect(abs(Double(split[r]) - expected[r]) <= bound * magnitude[r], "\(type) \(columns) columns, \(name), row \(r)")
                }
            }
            // Values the limbs cannot carry, in one block: the whole product takes the float kernel.
            for odd: Float in [.nan, .infinity, -.infinity, 0x1p-61, 0x1p61] {
                var hostile = spread
                for j in 64..<96 { hostile[j] = odd.isNaN || odd.isInfinite ? (j == 70 ? odd : hostile[j]) : odd * (j % 2 == 0 ? 1 : -0.5) }
                QuantizedKernels.forceAVX2(true)
                let float = w.linear(hostile, rows: 1)
                QuantizedKernels.forceAVX2(false)
                let split = w.linear(hostile, rows: 1)
                #expect(split.map(\.bitPattern) == float.map(\.bitPattern), "\(type) \(columns) columns, \(odd) in a block")
                if odd.isNaN { #expect(split.allSatisfy { $0.isNaN }) }
            }
        }
    }

    @Test(arguments: matrixTypes.filter { QuantizedKernels.activationType(for: $0) != nil })
    func ggmlProductsMatchTheirQuantizedActivations(type: GGMLType) throws {
        // Every block count modulo 4 (the AVX2 kernels of 32-value types take two blocks a step,
        // AVX-512's Q4_0 kernel four).
        for columns in (0..<4).map({ 512 + $0 * type.blockSize }) {
            let rows = 37
            let w = Self.matrix(type, rows: rows, columns: columns, seed: 21)
            let x = Self.activations(columns, seed: 22)
            let activationType = try #require(QuantizedKernels.activationType(for: type))
            let q = QuantizedKernels.quantizeActivations(x, as: activationType)
            // The activations as the kernels see them: the blocks dequantized.
            let dequantizedActivations = Self.dequantizeActivations(q, type: activationType, count: columns)
            let (expected, magnitude) = Self.reference(w.dequantized(), dequantizedActivations, rows: rows)
            var results: [[Float]] = []
            // The CPU's kernels, AVX2 alone (where the CPU has AVX-512: Q4_0's decode kernel), portable.
            for (portable, avx2) in [(false, false), (false, true), (true, false)] {
                QuantizedKernels.forcePortable(portable)
                QuantizedKernels.forceAVX2(avx2)
                let y = w.linear(x, rows: 1, ggml: true)
                results.append(y)
                // q8_1's block sum is stored as f16: the min term carries its rounding (2⁻¹¹ relative).
                let tolerance = activationType == .q8_1 ? 2e-3 : 1e-5
                for r in 0..<rows {
                    #expect(abs(Double(y[r]) - expected[r]) <= tolerance * magnitude[r], "\(type) \(columns) row \(r) portable \(portable) AVX2 \(avx2)")
                }
            }
            QuantizedKernels.forcePortable(false)
            QuantizedKernels.forceAVX2(false)
            for r in 0..<rows {
                #expect(abs(Double(results[0][r]) - Double(results[2][r])) <= 1e-5 * magnitude[r], "\(type) \(columns) SIMD vs portable row \(r)")
                #expect(abs(Double(results[0][r]) - Double(results[1][r])) <= 1e-5 * magnitude[r], "\(type) \(columns) SIMD vs AVX2 row \(r)")
            }
        }
    }

    /// q8_0/q8_1 blocks (f16 scale [, f16 sum], 32 int8) and q8_K blocks (f32 scale, 256 int8, 16 int16 sums) as f32.
    static func dequantizeActivations(_ q: [UInt8], type: GGMLType, count: Int) -> [Float] {
        var out: [Float] = []
        let (size, bytes, offset) = type == .q8_K ? (256, 292, 4) : (32, type == .q8_1 ? 36 : 34, type == .q8_1 ? 4 : 2)
        for block in 0..<(count / size) {
            let base = block * bytes
            let d: Float = type == .q8_K
                ? Float(bitPattern: UInt32(q[base]) | UInt32(q[base + 1]) << 8 | UInt32(q[base + 2]) << 16 | UInt32(q[base + 3]) << 24)
                : Float(Float16(bitPattern: UInt16(q[base]) | UInt16(q[base + 1]) << 8))
            for j in 0..<size { out.append(d * Float(Int8(bitPattern: q[base + offset + j]))) }
        }
        return out
    }

    @Test func q8ActivationsAreGGMLsX86Rounding() {
        let x = Self.activations(256, seed: 31) + [Float](repeating: 0, count: 32) + (0..<32).map { Float($0) * 0.5 - 8 }
        let q = QuantizedKernels.quantizeActivations(x, as: .q8_0)
        for block in 0..<(x.count / 32) {
            let values = x[(block * 32)..<(block * 32 + 32)]
            let amax = values.map(abs).max()!
            let id: Float = amax != 0 ? 127 / amax : 0
            let d = UInt16(q[block * 34]) | UInt16(q[block * 34 + 1]) << 8
            #expect(d == Float16(amax / 127).bitPattern)
            for (j, v) in values.enumerated() {
                #expect(Int8(bitPattern: q[block * 34 + 2 + j]) == Int8((v * id).rounded(.toNearestOrEven)))
            }
        }
        // q8_K blocks hold the same values as ActivationRounding.q8_K's emulation.
        let k = Self.activations(512, seed: 32)
        let blocks = QuantizedKernels.quantizeActivations(k, as: .q8_K)
        #expect(Self.dequantizeActivations(blocks, type: .q8_K, count: 512) == ActivationRounding.q8_K.apply(k, rowLength: 512))
    }

    /// The AVX2 quantizers write the portable loop's bytes, for ordinary activations and for what
    /// a broken model might hand them: NaN (with payloads, a block of them), infinities, −0,
    /// subnormals (a block of them: 127/amax overflows), a block of zeros, ± the same magnitude
    /// (the first one sets q8_K's sign).
    @Test(arguments: [GGMLType.q8_0, .q8_1, .q8_K])
    func simdActivationQuantizationEqualsTheScalarLoop(type: GGMLType) {
        var x = Self.activations(2048, seed: 91).enumerated().map { $0.element * Float(pow(2.0, Double($0.offset % 41 - 20))) }
        for j in 0..<256 { x[512 + j] = 0 }
        for j in 768..<1024 { x[j] = j % 2 == 0 ? 2.5 : -2.5 }
        x[3] = .nan
        x[300] = Float(bitPattern: 0x7FC0_0123)
        x[301] = Float(bitPattern: 0xFF81_2345)
        x[1100] = .infinity
        x[1500] = -.infinity
        x[1600] = -0.0
        x[1700] = Float(bitPattern: 1)
        // A block of subnormals (its scale's inverse overflows), one of NaNs, a NaN with a small payload.
        x += (2048..<2304).map { Float(bitPattern: UInt32($0)) * ($0 % 3 == 0 ? -1 : 1) }
        x += [Float](repeating: .nan, count: 256)
        x[1801] = Float(bitPattern: 0x7FC0_0005)
        QuantizedKernels.forcePortable(true)
        let portable = QuantizedKernels.quantizeActivations(x, as: type)
        QuantizedKernels.forcePortable(false)
        #expect(QuantizedKernels.quantizeActivations(x, as: type) == portable)
    }

    @Test(arguments: [GGMLType.f16, .q4_1, .q8_0, .q6_K])
    func batchesEqualSgemmOnTheDequantizedMatrix(type: GGMLType) {
        // More rows than one panel holds, so the panels' seams are crossed.
        let rows = 1000, columns = 512, m = 3
        let w = Self.matrix(type, rows: rows, columns: columns, seed: 41)
        let x = Self.activations(m * columns, seed: 42)
        let whole = BLAS.matmulTransposed(x, w.dequantized(), m: m, n: rows, k: columns)
        let (saved, savedSmall) = (WeightMatrix.panelValues, WeightMatrix.smallBatchRows)
        WeightMatrix.smallBatchRows = 0  // sgemm even for 3 rows
        defer { (WeightMatrix.panelValues, WeightMatrix.smallBatchRows) = (saved, savedSmall) }
        #expect(w.linear(x, rows: m) == whole)  // one panel: the same sgemm
        WeightMatrix.panelValues = 300 * columns
        let (_, magnitude) = Self.reference(w.dequantized(), Array(x[0..<columns]), rows: rows)
        let panels = w.linear(x, rows: m)
        for r in 0..<rows { #expect(abs(panels[r] - whole[r]) <= 1e-6 * Float(magnitude[r]), "row \(r)") }
    }

    /// A short batch goes through the matrix-vector kernels, a few weight rows meeting every
    /// activation row, where each output equals the one-row product bit for bit (quantized
    /// activations, and f32 ones for types without a SIMD dequantization) — or, with f32
    /// activations and weights the CPU dequantizes fast (F16, BF16 and every block type with
    /// AVX2), through dequantized tiles, where each output is the same
    /// whichever rows share the batch. Either way it does not depend on the thread count and
    /// stays within rounding of sgemm on the dequantized matrix.
    @Test(arguments: matrixTypes.filter { $0 != .f32 })
    func shortBatchesEqualRowByRowProducts(type: GGMLType) {
        // An odd row count (Q4_0 and Q4_1 pair rows, and the last one goes alone) and an odd
        // block count (decode's 32-value kernels take blocks two at a time).
        let rows = 301, columns = 512 + type.blockSize, m = 5
        let w = Self.matrix(type, rows: rows, columns: columns, seed: 61)
        let x = Self.activations(m * columns, seed: 62)
        let saved = Threads.count
        defer { Threads.count = saved }
        let tiles = QuantizedKernels.tilesShortBatches(of: type)
        for ggml in [false, true] {
            let oneByOne = (0..<m).flatMap { a in w.linear(Array(x[(a * columns)..<((a + 1) * columns)]), rows: 1, ggml: ggml) }
            // Rows 1–2 and 3–4 as batches of two: the tile kernels group rows by three.
            let pairs = [1, 3].flatMap { a in w.linear(Array(x[(a * columns)..<((a + 2) * columns)]), rows: 2, ggml: ggml) }
            var first: [Float]?
            for threads in [1, 2, 3] {
                Threads.count = threads
                let batch = w.linear(x, rows: m, ggml: ggml)
                // F16 and BF16 meet f32 activations with ggml numerics too (rounded to their type first).
                if tiles && (!ggml || type == .f16 || type == .bf16) {
                    #expect(Array(batch[rows...]) == pairs, "\(type) tiles, ggml \(ggml), \(threads) threads")
                    #expect(batch == (first ?? batch), "\(type) tiles, ggml \(ggml), \(threads) threads against 1")
                    first = first ?? batch
                } else {
                    #expect(batch == oneByOne, "\(type) ggml \(ggml), \(threads) threads")
                }
            }
            if !tiles || (ggml && type != .f16 && type != .bf16) {
                // Batches of two and three (the integer kernels take up to four activation rows at a time).
                let three = w.linear(Array(x[0..<(3 * columns)]), rows: 3, ggml: ggml)
                #expect(pairs == Array(oneByOne[rows...]) && three == Array(oneByOne[..<(3 * rows)]), "\(type) ggml \(ggml), 2 and 3 rows")
            }
        }
        let whole = BLAS.matmulTransposed(x, w.dequantized(), m: m, n: rows, k: columns)
        let batch = w.linear(x, rows: m)
        for a in 0..<m {
            let (_, magnitude) = Self.reference(w.dequantized(), Array(x[(a * columns)..<((a + 1) * columns)]), rows: rows)
            for r in 0..<rows where abs(batch[a * rows + r] - whole[a * rows + r]) > 1e-5 * Float(magnitude[r]) {
                Issue.record("\(type) row \(a), output \(r): \(batch[a * rows + r]) against sgemm's \(whole[a * rows + r])")
            }
        }
    }

    /// Tiles of rows whose length is no multiple of 8 (1,004), split between two threads in the
    /// middle of a tile (rows 0–33 and 34–69), and the portable kernels (BF16 takes tiles there
    /// too): within rounding of sgemm, and each output the same for any grouping of the
    /// activation rows and any thread count.
    @Test(arguments: [GGMLType.f16, .bf16])
    func exactShortBatchTilesTakeAnyShape(type: GGMLType) throws {
        let rows = 70, columns = 1004, m = 7
        let w = Self.matrix(type, rows: rows, columns: columns, seed: 71)
        let x = Self.activations(m * columns, seed: 72)
        let whole = BLAS.matmulTransposed(x, w.dequantized(), m: m, n: rows, k: columns)
        // Σ |w·x| of each output: the scale of its rounding.
        let magnitude = (0..<m).flatMap { a in Self.reference(w.dequantized(), Array(x[(a * columns)..<((a + 1) * columns)]), rows: rows).1 }
        let saved = Threads.count
        defer { Threads.count = saved; QuantizedKernels.forcePortable(false) }
        for portable in [false, true] {
            QuantizedKernels.forcePortable(portable)
            var first: [Float]?
            for threads in [1, 2] {
                Threads.count = threads
                let batch = w.linear(x, rows: m)
                for (i, (a, b)) in zip(batch, whole).enumerated() {
                    #expect(abs(a - b) <= 1e-5 * Float(magnitude[i]), "\(type) portable \(portable), \(threads) threads, output \(i)")
                }
                let last2 = w.linear(Array(x[((m - 2) * columns)...]), rows: 2)
                #expect(Array(batch[((m - 2) * rows)...]) == last2, "\(type) portable \(portable), \(threads) threads")
                #expect(batch == (first ?? batch), "\(type) portable \(portable): 2 threads against 1")
                first = first ?? batch
            }
        }
    }

    /// The AVX2 dequantization gives the scalar loop's floats bit for bit, over many blocks of
    /// every type it handles.
    @Test(arguments: [GGMLType.f16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q2_K, .q3_K, .q4_K, .q5_K, .q6_K])
    func simdDequantizationEqualsTheScalarLoop(type: GGMLType) throws {
        try #require(QuantizedKernels.simdLevel >= 1, "no AVX2 on this CPU")
        let w = Self.matrix(type, rows: 64, columns: 1024, seed: 81)
        defer { QuantizedKernels.forcePortable(false) }
        let simd = w.dequantized()
        QuantizedKernels.forcePortable(true)
        let scalar = w.dequantized()
        #expect(simd.map(\.bitPattern) == scalar.map(\.bitPattern), "\(type)")
        #expect(QuantizedKernels.tilesShortBatches(of: type) == false)  // forced portable
        QuantizedKernels.forcePortable(false)
        #expect(QuantizedKernels.tilesShortBatches(of: type))  // so short batches take the tiles
    }

    @Test func f16RowsKeepNaNPayloadsAsTheScalarConversion() throws {
        // 16 halves: normal, subnormal, infinities, and a signalling NaN (F16C would quiet it).
        let halves: [UInt16] = [0x3C00, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x7C01, 0xBC00, 0x0000] + (0..<8).map { UInt16(0x3800 + $0) }
        let bytes = halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        let matrix = try #require(WeightMatrix(type: .f16, rows: 1, columns: 16, copying: bytes))
        #expect(matrix.row(0).map(\.bitPattern) == halves.map { HalfPrecision.floatBits(half: $0) })
        let finite = Array(halves[8...]) + Array(halves[8...])
        let plain = try #require(WeightMatrix(type: .f16, rows: 1, columns: 16, copying: finite.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        #expect(plain.row(0).map(\.bitPattern) == finite.map { HalfPrecision.floatBits(half: $0) })
    }

    @Test(arguments: [GGMLType.q4_0, .q4_1, .q8_0, .q4_K])
    func productsDoNotDependOnTheThreadCount(type: GGMLType) {
        // 39 rows, split 1 and 2 ways (19.5 rows a part): rows pair up the same way whatever the split.
        let w = Self.matrix(type, rows: 39, columns: 4096, seed: 51)
        let x = Self.activations(4096, seed: 52)
        let saved = Threads.count
        defer { Threads.count = saved }
        var results: [[Float]] = []
        for threads in [1, 2, 3] {
            Threads.count = threads
            results.append(w.linear(x, rows: 1, ggml: true) + w.linear(x, rows: 1))
        }
        #expect(results[0] == results[1] && results[1] == results[2])
        #expect(w.linear([], rows: 0).isEmpty)
    }

    @Test func matricesRefuseWrongSizesAndTypes() {
        #expect(WeightMatrix(type: .q4_0, rows: 2, columns: 48, copying: [UInt8](repeating: 0, count: 54)) == nil)  // 48 is not whole blocks
        #expect(WeightMatrix(type: .q4_0, rows: 2, columns: 64, copying: [UInt8](repeating: 0, count: 71)) == nil)  // 72 needed
        #expect(WeightMatrix(type: .i32, rows: 1, columns: 4, copying: [UInt8](repeating: 0, count: 16)) == nil)
        #expect(WeightMatrix.byteCount(type: .q4_K, rows: Int.max / 2, columns: 256) == nil)  // overflow
    }

    @Test func mappedFilesAreSharedAndRefuseWhatCannotBeMapped() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assay-mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("w.bin")
        let values: [Float] = (0..<64).map(Float.init)
        try values.withUnsafeBytes { Data($0) }.write(to: file)
        let mapping = try MappedFile(url: file)
        let matrix = try #require(WeightMatrix(type: .f32, rows: 8, columns: 8, bytes: mapping.bytes, owner: mapping))
        #expect(matrix.bytes.baseAddress == mapping.bytes.baseAddress)  // in place, no copy
        #expect(matrix.row(3) == Array(values[24..<32]))
        #expect(throws: MappedFile.Failure.self) { try MappedFile(url: directory) }
        #expect(throws: MappedFile.Failure.self) { try MappedFile(url: directory.appendingPathComponent("missing")) }
    }
}
