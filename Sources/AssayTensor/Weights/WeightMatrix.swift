import CAssayKernels
import Foundation

/// A linear layer's weight — `rows` outputs × `columns` inputs, row-major — kept in the type it
/// is stored in (f32, f16, bf16 or a ggml block format), in place in a ``MappedFile`` or in memory
/// it owns. Never expanded to f32 as a whole: one row goes through the quantized matrix-vector
/// kernels of `CAssayKernels`; a short batch through those kernels or through tiles of four
/// dequantized rows; a longer batch through `cblas_sgemm` on panels of dequantized rows, or with
/// `ggml` numerics through integer GEMMs on the quantized blocks.
public struct WeightMatrix: @unchecked Sendable {
    /// The bytes and whoever keeps them alive — or, for a conversion made lazily, what makes them
    /// at the first use (under a lock: a model may run on several threads at once).
    final class Storage: @unchecked Sendable {
        private let ready: UnsafeRawPointer?
        let owner: AnyObject?
        private(set) var owned: UnsafeMutableRawPointer?
        private var pending: (@Sendable () -> [UInt8])?
        private let lock = NSLock()

        init(base: UnsafeRawPointer, owner: AnyObject) {
            ready = base
            self.owner = owner
        }

        init(copying bytes: UnsafeRawBufferPointer) {
            let memory = Self.copy(bytes)
            ready = UnsafeRawPointer(memory)
            owner = nil
            owned = memory
        }

        /// Bytes that `make` returns when they are first needed.
        init(making make: @escaping @Sendable () -> [UInt8]) {
            ready = nil
            owner = nil
            pending = make
        }

        /// Where the bytes are (made now if they are pending).
        var base: UnsafeRawPointer {
            if let ready { return ready }
            lock.lock()
            defer { lock.unlock() }
            if let owned { return UnsafeRawPointer(owned) }
            let memory = pending!().withUnsafeBytes(Self.copy)
            pending = nil
            owned = memory
            return UnsafeRawPointer(memory)
        }

        /// Whether the bytes are still to be made.
        var isPending: Bool {
            if ready != nil { return false }
            lock.lock()
            defer { lock.unlock() }
            return owned == nil
        }

        private static func copy(_ bytes: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer {
            let memory = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
            if let source = bytes.baseAddress { memory.copyMemory(from: source, byteCount: bytes.count) }
            return memory
        }

        deinit { owned?.deallocate() }
    }

    public let type: GGMLType
    public let rows: Int
    public let columns: Int
    /// Bytes from one row to the next.
    public let rowBytes: Int
    let storage: Storage

    /// Most f32 values a batch product dequantizes at once (see ``linear(_:rows:ggml:)``); tests
    /// lower it to cross panel seams.
    nonisolated(unsafe) public static var panelValues = 1 << 22

    /// Batches of at most this many rows (of a non-f32 matrix) go through the kernels of
    /// `CAssayKernels`, a few weight rows at a time meeting every activation row (the
    /// matrix-vector kernels, or dequantized tiles of four rows for f32 activations), instead of
    /// dequantized panels and sgemm: the weights are read once and never written out as f32 beyond
    /// a tile of four rows, which for a short prompt costs less than dequantizing the whole matrix
    /// (see docs/engine.md).
    nonisolated(unsafe) public static var smallBatchRows = 32

    /// Whether the kernels handle weights of `type` (f32, f16, bf16 and every block format but q8_1).
    public static func supports(_ type: GGMLType) -> Bool {
        type == .f32 || type == .f16 || type == .bf16 || (type.blockSize > 1 && type != .q8_1 && type != .q8_K)
    }

    /// The bytes a `rows` × `columns` matrix of `type` takes, or nil when the type has no kernels
    /// or a row does not hold whole blocks.
    public static func byteCount(type: GGMLType, rows: Int, columns: Int) -> Int? {
        guard supports(type), rows > 0, columns > 0 else { return nil }
        let perRow = assay_row_bytes(Int32(type.rawValue), Int64(columns))
        guard perRow > 0 else { return nil }
        let (total, overflow) = rows.multipliedReportingOverflow(by: perRow)
        return overflow ? nil : total
    }

    /// A matrix referencing `bytes` in place; `owner` (a ``MappedFile``) keeps them alive.
    /// Nil when the type has no kernels, a row does not hold whole blocks, or `bytes` is not the
    /// matrix's exact size. f32 bytes that are not 4-byte aligned are copied.
    public init?(type: GGMLType, rows: Int, columns: Int, bytes: UnsafeRawBufferPointer, owner: AnyObject) {
        guard let count = Self.byteCount(type: type, rows: rows, columns: columns), count == bytes.count,
              let base = bytes.baseAddress else { return nil }
        self.type = type
        self.rows = rows
        self.columns = columns
        rowBytes = count / rows
        storage = type == .f32 && Int(bitPattern: base) % 4 != 0 ? Storage(copying: bytes) : Storage(base: base, owner: owner)
    }

    /// A matrix owning a copy of `bytes` (a quantized copy made in memory). Nil as above.
    public init?(type: GGMLType, rows: Int, columns: Int, copying bytes: [UInt8]) {
        guard let count = Self.byteCount(type: type, rows: rows, columns: columns), count == bytes.count else { return nil }
        self.type = type
        self.rows = rows
        self.columns = columns
        rowBytes = count / rows
        storage = bytes.withUnsafeBytes { Storage(copying: $0) }
    }

    /// An f32 matrix owning `values`.
    /// - Precondition: `values.count == rows · columns`, both positive.
    public init(values: [Float], rows: Int, columns: Int) {
        precondition(rows > 0 && columns > 0 && values.count == rows * columns, "shape mismatch")
        type = .f32
        self.rows = rows
        self.columns = columns
        rowBytes = 4 * columns
        storage = values.withUnsafeBytes { Storage(copying: $0) }
    }

    /// This matrix converted to `type` — f32, f16, or a type ``Quantizer`` writes — as
    /// `llama-quantize` would from these values; nil for another type or rows that do not hold
    /// whole blocks of it. `lazily`: the conversion runs when the matrix is first used (never, if
    /// it is not), holding on to this matrix until then.
    public func converted(to type: GGMLType, lazily: Bool = false) -> WeightMatrix? {
        if type == self.type { return self }
        guard type == .f32 || type == .f16 || (Quantizer.supportedTypes.contains(type) && columns % type.blockSize == 0),
              let count = Self.byteCount(type: type, rows: rows, columns: columns) else { return nil }
        let source = self
        let make: @Sendable () -> [UInt8] = {
            let values = source.dequantized()
            let bytes: [UInt8]
            switch type {
            case .f32: bytes = values.withUnsafeBytes { Array($0) }
            case .f16: bytes = values.map { Float16($0).bitPattern.littleEndian }.withUnsafeBytes { Array($0) }
            default: bytes = Quantizer.quantize(values, as: type)
            }
            precondition(bytes.count == count, "a \(type) conversion of \(source.rows) × \(source.columns) made \(bytes.count) bytes, not \(count)")
            return bytes
        }
        let storage = lazily ? Storage(making: make) : make().withUnsafeBytes { Storage(copying: $0) }
        return WeightMatrix(type: type, rows: rows, columns: columns, rowBytes: count / rows, storage: storage)
    }

    /// Whether a conversion made lazily (``converted(to:lazily:)``) has yet to run.
    public var conversionPending: Bool { storage.isPending }

    /// Rows `range` of this matrix, in place (the Q, K and V parts of a fused QKV projection).
    /// - Precondition: `range` is non-empty and within `0..<rows`.
    public func rows(_ range: Range<Int>) -> WeightMatrix {
        precondition(!range.isEmpty && range.lowerBound >= 0 && range.upperBound <= rows, "rows out of range")
        return WeightMatrix(type: type, rows: range.count, columns: columns, rowBytes: rowBytes,
                            storage: Storage(base: storage.base + range.lowerBound * rowBytes, owner: storage))
    }

    init(type: GGMLType, rows: Int, columns: Int, rowBytes: Int, storage: Storage) {
        self.type = type
        self.rows = rows
        self.columns = columns
        self.rowBytes = rowBytes
        self.storage = storage
    }

    /// Whether both matrices are the same bytes (a tied embedding and output).
    public func sharesStorage(with other: WeightMatrix) -> Bool { storage === other.storage }

    /// The bytes in their stored type.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage.base, count: rows * rowBytes) }

    /// Row `index` as f32 (an embedding lookup).
    /// - Precondition: `0 ≤ index < rows`.
    public func row(_ index: Int) -> [Float] {
        return [Float](unsafeUninitializedCapacity: columns) { buffer, initialized in
            dequantizeRow(index, into: buffer.baseAddress!)
            initialized = columns
        }
    }

    /// Row `index` as f32 into `destination` (`columns` floats): an embedding lookup without an array.
    /// - Precondition: `0 ≤ index < rows`.
    public func dequantizeRow(_ index: Int, into destination: UnsafeMutablePointer<Float>) {
        precondition(index >= 0 && index < rows, "row out of range")
        assay_dequantize_row(Int32(type.rawValue), storage.base + index * rowBytes, destination, Int64(columns))
    }

    /// The whole matrix as f32 (to quantize it again, or to compare).
    public func dequantized() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * columns) { buffer, initialized in
            dequantizeRows(0..<rows, into: buffer.baseAddress!)
            initialized = rows * columns
        }
    }

    /// Rows `range` dequantized into `destination` (range.count · columns floats), split across threads.
    func dequantizeRows(_ range: Range<Int>, into destination: UnsafeMutablePointer<Float>) {
        assay_dequantize_rows_parallel(Int32(type.rawValue), storage.base + range.lowerBound * rowBytes, rowBytes, Int64(columns),
                                       destination, Int64(range.count))
    }

    /// `m` rows of `x` (m × columns, row-major) through this layer: m × rows outputs. One row — or
    /// up to ``smallBatchRows`` rows of a non-f32 matrix — goes through the kernels of
    /// `CAssayKernels`; with `ggml` the activations are quantized to the weights' vec-dot type
    /// (q8_0, q8_1, q8_K) and the products are ggml's integer ones, otherwise f32 activations meet
    /// the dequantized weights (two or more rows of a type ``QuantizedKernels/tilesShortBatches(of:)``
    /// names in dequantized tiles: `assay_gemm_rows_parallel`). More rows with `ggml` meet weights
    /// of a type ``QuantizedKernels/multipliesInIntegers(_:)`` names in integer block products
    /// (`assay_gemm_integer_parallel`); otherwise they go through `cblas_sgemm` on panels of
    /// dequantized rows, activations rounded as ggml would (``ActivationRounding``) with `ggml`.
    /// - Precondition: `x.count == m · columns`.
    public func linear(_ x: [Float], rows m: Int, ggml: Bool = false) -> [Float] {
        precondition(m >= 0 && x.count == m * columns, "shape mismatch")
        guard m > 0 else { return [] }
        var y = [Float](repeating: 0, count: m * rows)
        let vecDotType = assay_vec_dot_type(Int32(type.rawValue))
        let short = m == 1 || (m <= Self.smallBatchRows && type != .f32)
        if ggml && vecDotType >= 0 && (short || QuantizedKernels.multipliesInIntegers(type)) {
            let stride = assay_row_bytes(vecDotType, Int64(columns))
            // Every byte written by the quantizer, rows split across the pool.
            let quantized = [UInt8](unsafeUninitializedCapacity: m * stride) { q, initialized in
                let base = q.baseAddress!
                x.withUnsafeBufferPointer { xs in
                    Threads.forEachRange(of: m, rowLength: columns) { range in
                        for r in range {
                            assay_quantize_row(vecDotType, xs.baseAddress! + r * columns, base + r * stride, Int64(columns))
                        }
                    }
                }
                initialized = m * stride
            }
            quantized.withUnsafeBytes { q in
                y.withUnsafeMutableBufferPointer {
                    if short {
                        products(m: m, x: nil, xq: q.baseAddress, xqRowBytes: stride, into: $0.baseAddress!)
                    } else {
                        assay_gemm_integer_parallel(Int32(type.rawValue), storage.base, rowBytes, Int64(columns), q.baseAddress, stride,
                                                    Int64(m), $0.baseAddress!, Int64(rows), Int64(rows))
                    }
                }
            }
            return y
        }
        let input = ggml ? ActivationRounding.forWeights(type).apply(x, rowLength: columns) : x
        input.withUnsafeBufferPointer { xs in
            y.withUnsafeMutableBufferPointer {
                if short {
                    products(m: m, x: xs.baseAddress, xq: nil, xqRowBytes: 0, into: $0.baseAddress!)
                } else {
                    sgemmProducts(xs.baseAddress!, rows: m, into: $0.baseAddress!, outputStride: rows, beta: 0)
                }
            }
        }
        return y
    }

    /// out (m rows, `outputStride` floats apart) += x (m × columns, row-major) · Wᵀ with f32
    /// activations through `assay_sgemm_ordered` — or, with `start` (`rows` values: a bias),
    /// out = start + x · Wᵀ without reading `out` — f32 weights in place, others in panels of
    /// dequantized rows. Each output is one chain of fused multiply-adds over the columns in
    /// order, starting from its value in `out` (or `start`): the same
    /// bits whatever `m` is, whichever rows share the batch, however many `threads` split the
    /// product (1: this thread alone, safe from several threads at once) and SIMD level, so an
    /// encoder's output for a text depends on that text only. An encoder's projections
    /// (``linear(_:rows:ggml:)`` returns a new array and takes the decoder's paths).
    /// - Precondition: `m ≥ 0`; `out` has room for m rows of `outputStride ≥ rows` floats.
    public func accumulate(_ x: UnsafePointer<Float>, rows m: Int, into out: UnsafeMutablePointer<Float>, outputStride: Int,
                           startingFrom start: UnsafePointer<Float>? = nil, threads: Int = Threads.count) {
        precondition(m >= 0 && outputStride >= rows, "shape mismatch")
        guard m > 0 else { return }
        if type == .f32 {
            assay_sgemm_ordered(Int64(m), Int64(rows), Int64(columns), x, Int64(columns), storage.base.assumingMemoryBound(to: Float.self),
                                Int64(columns), 1, start, out, Int64(outputStride), Int32(threads))
            return
        }
        // Splitting the rows into panels changes no output's sum.
        forEachPanel(onThisThread: threads <= 1) { first, count, panel in
            assay_sgemm_ordered(Int64(m), Int64(count), Int64(columns), x, Int64(columns), panel, Int64(columns), 1, start.map { $0 + first },
                                out + first, Int64(outputStride), Int32(threads))
        }
    }

    /// The rows in panels of at most ``panelValues`` floats, each dequantized (across the pool, or
    /// on this thread alone) and handed to `body` with its first row and row count.
    private func forEachPanel(onThisThread: Bool, _ body: (_ start: Int, _ count: Int, _ panel: UnsafePointer<Float>) -> Void) {
        let panelRows = max(1, min(rows, Self.panelValues / columns))
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * columns)
        defer { panel.deallocate() }
        for start in stride(from: 0, to: rows, by: panelRows) {
            let count = min(panelRows, rows - start)
            if onThisThread {
                for r in 0..<count { assay_dequantize_row(Int32(type.rawValue), storage.base + (start + r) * rowBytes, panel + r * columns, Int64(columns)) }
            } else {
                dequantizeRows(start..<(start + count), into: panel)
            }
            body(start, count, panel)
        }
    }

    /// out = x · Wᵀ + beta · out through `cblas_sgemm`: f32 weights in place, others in panels.
    private func sgemmProducts(_ a: UnsafePointer<Float>, rows m: Int, into c: UnsafeMutablePointer<Float>, outputStride ldc: Int, beta: Float) {
        if type == .f32 {
            BLAS.gemm(m: m, n: rows, k: columns, a: a, lda: columns, b: storage.base.assumingMemoryBound(to: Float.self),
                      ldb: columns, transposeB: true, beta: beta, c: c, ldc: ldc)
            return
        }
        // Panels of at most 16 MB of f32 (4 M values): a 1B model's attention projection in one
        // sgemm, its feed-forward and output matrices in a few. Splitting a product changes
        // sgemm's summation for some outputs by an ulp, which ggml numerics' activation rounding
        // amplifies (one chunk's perplexity moved 1 % with 2 MB panels; 64 MB → 16 MB moved a
        // 1.1B shape's two chunks by 1e-5, exact numerics by 1.5e-8), so panels stay few; 64 MB
        // panels put a 1.1B and a 7B perplexity run 36–46 MiB over file + KV cache + 128 MiB.
        forEachPanel(onThisThread: false) { start, count, panel in
            BLAS.gemm(m: m, n: count, k: columns, a: a, lda: columns, b: panel, ldb: columns, transposeB: true, beta: beta,
                      c: c + start, ldc: ldc)
        }
    }

    /// y (m × rows) = x (m × columns, f32 or quantized rows `xqRowBytes` apart) · Wᵀ through the
    /// kernels of `CAssayKernels` (matrix-vector kernels, or dequantized tiles for two or more f32
    /// rows of a type ``QuantizedKernels/tilesShortBatches(of:)`` names), the weight rows split
    /// across threads.
    private func products(m: Int, x: UnsafePointer<Float>?, xq: UnsafeRawPointer?, xqRowBytes: Int, into y: UnsafeMutablePointer<Float>) {
        if m == 1 {
            assay_gemv_parallel(Int32(type.rawValue), storage.base, rowBytes, Int64(columns), x, xq, y, Int64(rows), Threads.minimumBytesPerPart)
        } else {
            assay_gemm_rows_parallel(Int32(type.rawValue), storage.base, rowBytes, Int64(columns), x, xq, xqRowBytes, Int64(m), y,
                                     Int64(rows), Int64(rows), Threads.minimumBytesPerPart)
        }
    }
}
