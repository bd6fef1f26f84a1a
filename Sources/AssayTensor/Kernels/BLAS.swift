import COpenBLAS
import Foundation

/// Matrix products on OpenBLAS. Matrices are row-major `[Float]` buffers.
public enum BLAS {
    /// Threads OpenBLAS uses for each call — and the quantized kernels' parts (``Threads/count``):
    /// one knob, so the two never run more threads than asked. Inside ``singleThreaded(_:)``
    /// regions this is the count asked for (set at the regions' end), not OpenBLAS's 1.
    public static var threads: Int {
        get {
            lock.lock()
            defer { lock.unlock() }
            return Int(regions > 0 ? asked : openblas_get_num_threads())
        }
        set {
            lock.lock()
            if regions > 0 { asked = Int32(newValue) } else { openblas_set_num_threads(Int32(newValue)) }
            lock.unlock()
            Threads.count = newValue
        }
    }

    private static let lock = NSLock()
    /// Open ``singleThreaded(_:)`` regions (on any thread), and the count to restore after them.
    nonisolated(unsafe) private static var regions = 0
    nonisolated(unsafe) private static var asked: Int32 = 1

    /// Runs `body` with OpenBLAS on one thread per call: calls made from the kernels' pool
    /// (``Threads/forEachTask(_:parts:_:)``), one per core, instead of each call waking OpenBLAS's
    /// own threads, whose idle spinning then competes with the pool's. Regions on several threads
    /// at once share the setting (the first sets 1, the last restores the count). A product's
    /// values do depend on OpenBLAS's thread count for some shapes (OpenBLAS 0.3.21 halves a
    /// reduction dimension between one and two times its block depth differently with threads), so
    /// a product that must give the same bits on any machine runs in here.
    public static func singleThreaded<T>(_ body: () -> T) -> T {
        lock.lock()
        if regions == 0 {
            asked = openblas_get_num_threads()
            openblas_set_num_threads(1)
        }
        regions += 1
        lock.unlock()
        defer {
            lock.lock()
            regions -= 1
            if regions == 0 { openblas_set_num_threads(asked) }
            lock.unlock()
        }
        return body()
    }

    /// The OpenBLAS kernel family picked for this CPU (`Haswell`, `Cooperlake`, …).
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// C = alpha · A · op(B) + beta · C on raw row-major buffers with leading dimensions (for
    /// strided sub-matrices such as one attention head's columns): op(B) = Bᵀ when `transposeB`.
    /// With `beta` 1 the product adds to C (a bias already in C costs no extra pass).
    public static func gemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[m×n] = A[m×k] · B[n×k]ᵀ — a batch of rows through a linear layer whose weight is stored
    /// one output row per line (ggml/GGUF and PyTorch layout).
    /// - Precondition: `a.count == m·k`, `b.count == n·k`.
    public static func matmulTransposed(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == n * k, "shape mismatch")
        return product(a, b, m: m, n: n, k: k, transposeB: true)
    }

    /// C[m×n] = A[m×k] · B[k×n].
    /// - Precondition: `a.count == m·k`, `b.count == k·n`.
    public static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        precondition(a.count == m * k && b.count == k * n, "shape mismatch")
        return product(a, b, m: m, n: n, k: k, transposeB: false)
    }

    /// A new C = A · op(B) for dense row-major arrays.
    private static func product(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transposeB: Bool) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return c }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    gemm(m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: transposeB ? k : n,
                         transposeB: transposeB, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return c
    }
}

extension BLAS {
    /// y[n] = W[n×k] · x[k] — one row through a linear layer on `cblas_sgemv` (3–4× faster than a
    /// one-row `sgemm` here, ../shared/PLATFORM.md).
    public static func matvec(_ w: [Float], _ x: [Float], n: Int, k: Int) -> [Float] {
        precondition(w.count == n * k && x.count == k, "shape mismatch")
        var y = [Float](repeating: 0, count: n)
        w.withUnsafeBufferPointer { pw in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), 1, pw.baseAddress, Int32(k), px.baseAddress, 1, 0,
                                py.baseAddress, 1)
                }
            }
        }
        return y
    }

    /// Rows of `x` (m×k) through a linear layer W (n×k): GEMV for one row, GEMM otherwise.
    public static func linear(_ x: [Float], _ w: [Float], rows m: Int, outputs n: Int, inputs k: Int) -> [Float] {
        m == 1 ? matvec(w, x, n: n, k: k) : matmulTransposed(x, w, m: m, n: n, k: k)
    }
}

/// Element-wise kernels of transformer layers.
public enum Kernels {
    /// RMS normalisation of each `dimension`-long row: x / sqrt(mean(x²) + eps) · weight, the sum
    /// of squares accumulated in double as ggml does.
    public static func rmsNorm(_ x: [Float], weight: [Float], dimension: Int, epsilon: Float) -> [Float] {
        precondition(x.count % dimension == 0 && weight.count == dimension, "shape mismatch")
        guard !x.isEmpty else { return [] }
        // Rows split across the pool (each row's values are the same on any thread).
        return [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
            let out = y.baseAddress!
            x.withUnsafeBufferPointer { px in
                weight.withUnsafeBufferPointer { pw in
                    Threads.forEachRange(of: x.count / dimension, rowLength: dimension) { rows in
                        for row in rows {
                            let base = row * dimension
                            var sum = 0.0
                            for i in 0..<dimension { sum += Double(px[base + i] * px[base + i]) }
                            let scale = 1 / (Float(sum / Double(dimension)) + epsilon).squareRoot()
                            for i in 0..<dimension { out[base + i] = px[base + i] * scale * pw[i] }
                        }
                    }
                }
            }
            initialized = x.count
        }
    }

    /// Rotary position embedding in place on `positions.count` rows of `heads × headDimension`
    /// values. The first `rotaryDimension` values of each head rotate by angle
    /// `position · positionScale · base^(−2i/rotaryDimension)` for pair i, divided by
    /// `frequencyFactors[i]` when given (Llama 3's rope scaling; llama.cpp's `rope_freqs`). Pairs are adjacent
    /// values `(2i, 2i+1)` in llama.cpp's normal layout (GGUF Llama, whose Q/K rows the converter
    /// permuted) and `(i, i + rotaryDimension/2)` in the NeoX layout (Hugging Face weights, Qwen2).
    /// `magnitude` multiplies the cosine and sine (YaRN's attention factor).
    public static func rope(_ x: inout [Float], positions: [Int], heads: Int, headDimension: Int, rotaryDimension: Int, base: Float,
                            neox: Bool = false, positionScale: Float = 1, frequencyFactors: [Float]? = nil, magnitude: Float = 1) {
        let table = RotaryTable(positions: positions, rotaryDimension: rotaryDimension, base: base, positionScale: positionScale,
                                frequencyFactors: frequencyFactors, magnitude: magnitude)
        rope(&x, table: table, heads: heads, headDimension: headDimension, neox: neox)
    }

    /// The cosines and sines ``rope(_:positions:heads:headDimension:rotaryDimension:base:neox:positionScale:frequencyFactors:magnitude:)``
    /// rotates by, for each position and pair: a model's forward pass makes one and applies it to
    /// every layer's Q and K (computed again for each, they had taken 3.7 % of a SmolLM2 prefill).
    /// The same expressions, so the same bits.
    public struct RotaryTable: Sendable {
        /// Positions (rows) and rotated pairs per row.
        public let rows: Int, pairs: Int
        let cos: [Float], sin: [Float]

        public init(positions: [Int], rotaryDimension: Int, base: Float, positionScale: Float = 1, frequencyFactors: [Float]? = nil,
                    magnitude: Float = 1) {
            let half = rotaryDimension / 2
            precondition(frequencyFactors.map { $0.count == half } ?? true, "one frequency factor per rotated pair")
            let count = positions.count * half
            rows = positions.count
            pairs = half
            var sines = [Float](repeating: 0, count: count)
            cos = [Float](unsafeUninitializedCapacity: count) { cosines, initialized in
                sines.withUnsafeMutableBufferPointer { sines in
                    let c = cosines.baseAddress!, s = sines.baseAddress!
                    Threads.forEachRange(of: positions.count, rowLength: 4 * half) { rows in
                        for row in rows {
                            for i in 0..<half {
                                var theta = Float(positions[row]) * positionScale * powf(base, -Float(2 * i) / Float(rotaryDimension))
                                if let factors = frequencyFactors { theta /= factors[i] }
                                c[row * half + i] = cosf(theta) * magnitude
                                s[row * half + i] = sinf(theta) * magnitude
                            }
                        }
                    }
                }
                initialized = count
            }
            sin = sines
        }
    }

    /// ``rope(_:positions:heads:headDimension:rotaryDimension:base:neox:positionScale:frequencyFactors:magnitude:)``
    /// with its cosines and sines from `table` (one row of `x` per row of the table).
    public static func rope(_ x: inout [Float], table: RotaryTable, heads: Int, headDimension: Int, neox: Bool = false) {
        let rowLength = heads * headDimension, half = table.pairs
        precondition(x.count == table.rows * rowLength && 2 * half <= headDimension, "shape mismatch")
        // Rows split across the pool.
        x.withUnsafeMutableBufferPointer { buffer in
            table.cos.withUnsafeBufferPointer { cosines in
                table.sin.withUnsafeBufferPointer { sines in
                    let x = buffer.baseAddress!, cosines = cosines.baseAddress!, sines = sines.baseAddress!
                    Threads.forEachRange(of: table.rows, rowLength: rowLength) { rows in
                        for row in rows {
                            for i in 0..<half {
                                let c = cosines[row * half + i], s = sines[row * half + i]
                                let first = neox ? i : 2 * i, second = neox ? i + half : 2 * i + 1
                                for h in 0..<heads {
                                    let index = row * rowLength + h * headDimension
                                    let x0 = x[index + first], x1 = x[index + second]
                                    x[index + first] = x0 * c - x1 * s
                                    x[index + second] = x0 * s + x1 * c
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds `vector` to every row of `x` (rows of `vector.count` values): a bias after a projection.
    public static func addRowVector(_ x: inout [Float], _ vector: [Float]) {
        let n = vector.count
        precondition(n > 0 && x.count % n == 0, "shape mismatch")
        x.withUnsafeMutableBufferPointer { out in
            vector.withUnsafeBufferPointer { b in
                for row in stride(from: 0, to: out.count, by: n) { for i in 0..<n { out[row + i] += b[i] } }
            }
        }
    }

    /// SiLU(gate) · up, element-wise.
    public static func swiglu(gate: [Float], up: [Float]) -> [Float] {
        precondition(gate.count == up.count, "shape mismatch")
        let count = gate.count
        guard count > 0 else { return [] }
        // Groups of eight values split across the pool (a lane's value is the scalar form's).
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            let o = out.baseAddress!
            gate.withUnsafeBufferPointer { pg in
                up.withUnsafeBufferPointer { pu in
                    let g = pg.baseAddress!, u = pu.baseAddress!
                    Threads.forEachRange(of: (count + 7) / 8, rowLength: 8) { groups in
                        var i = groups.lowerBound * 8
                        let end = min(count, groups.upperBound * 8)
                        while i + 8 <= end {
                            let gv = UnsafeRawPointer(g + i).loadUnaligned(as: SIMD8<Float>.self)
                            let uv = UnsafeRawPointer(u + i).loadUnaligned(as: SIMD8<Float>.self)
                            let silu = gv / (1 + VectorMath.exp(-gv))
                            UnsafeMutableRawPointer(o + i).storeBytes(of: silu * uv, as: SIMD8<Float>.self)
                            i += 8
                        }
                        while i < end {
                            o[i] = g[i] / (1 + VectorMath.exp(-g[i])) * u[i]
                            i += 1
                        }
                    }
                }
            }
            initialized = count
        }
    }

    /// GELU(gate) · up, element-wise, GELU in its tanh approximation
    /// (0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), PyTorch's `gelu_pytorch_tanh`): Gemma's GeGLU.
    /// With `f16Table`, as ggml's CPU backend computes it: the gate rounded to f16 and its GELU
    /// rounded to f16 (a lookup table), 0 below −10 and the identity above 10.
    public static func geglu(gate: [Float], up: [Float], f16Table: Bool = false) -> [Float] {
        precondition(gate.count == up.count, "shape mismatch")
        let c = Float((2 / Double.pi).squareRoot())
        func gelu(_ x: Float) -> Float { 0.5 * x * (1 + tanh(c * (x + 0.044715 * x * x * x))) }
        return (0..<gate.count).map { i in
            let x = gate[i]
            guard f16Table else { return gelu(x) * up[i] }
            if x <= -10 { return 0 }
            if x >= 10 { return x * up[i] }
            return Float(Float16(gelu(Float(Float16(x))))) * up[i]
        }
    }

    /// In-place softmax of `values[range]`.
    public static func softmax(_ values: inout [Float], _ range: Range<Int>) {
        values.withUnsafeMutableBufferPointer { softmax($0, range) }
    }

    /// In-place softmax of `buffer[range]`.
    public static func softmax(_ buffer: UnsafeMutableBufferPointer<Float>, _ range: Range<Int>) {
        guard !range.isEmpty else { return }
        let sum = VectorMath.expSubtracting(buffer, range, shift: VectorMath.maximum(buffer, range))
        let inverse = 1 / sum
        for i in range { buffer[i] *= inverse }
    }
}
