import AssayTensor
import Testing

/// The encoder's ordered products (`assay_sgemm_ordered`), in ``QuantizedKernelTests``' serialized
/// suite: they switch the kernels' SIMD level for the whole process.
extension QuantizedKernelTests {
    /// Ordered products (the encoder's): each output is one chain of fused multiply-adds over k
    /// in order from its starting value — checked against that chain written out in Swift — so
    /// the same bits come from any block of its rows, any thread count, the AVX-512, AVX2 and
    /// portable kernels, and a weight matrix of any type (dequantized panels, split across the
    /// pool); and from a start row (a bias) instead of C, which is then not read. Shapes cross every
    /// blocking edge: 6-row × 16-column (AVX2) and 12-row × 32-column (AVX-512) register blocks
    /// with every count of rows left over, 512-deep and 768-wide packed blocks, depths in and
    /// beside the 8 × 8 transposes that pack whole panels, and no depth at all.
    @Test(arguments: [(m: 13, n: 37, k: 5), (m: 9, n: 790, k: 1056), (m: 7, n: 16, k: 512), (m: 1, n: 3, k: 1), (m: 8, n: 40, k: 45),
                      (m: 3, n: 20, k: 0), (m: 25, n: 63, k: 33), (m: 12, n: 32, k: 7), (m: 30, n: 801, k: 520), (m: 14, n: 33, k: 9),
                      (m: 27, n: 50, k: 3), (m: 17, n: 40, k: 2), (m: 22, n: 17, k: 4), (m: 23, n: 48, k: 6)])
    func orderedProductsAreOneChainPerOutput(m: Int, n: Int, k: Int) {
        let a = Self.activations(m * k, seed: 91), b = Self.activations(n * k, seed: 92), start = Self.activations(m * n, seed: 93)
        let row = Self.activations(n, seed: 95), rowStart = (0..<(m * n)).map { row[$0 % n] }
        // The chain itself: fma over k in order, from the starting value (weights: n rows of k).
        func chains(_ weights: [Float], from start: [Float]) -> [Float] {
            var result = start
            for i in 0..<m {
                for j in 0..<n {
                    var acc = start[i * n + j]
                    for kk in 0..<k { acc = acc.addingProduct(a[i * k + kk], weights[j * k + kk]) }
                    result[i * n + j] = acc
                }
            }
            return result
        }
        let expected = chains(b, from: start), expectedFromRow = chains(b, from: rowStart)
        let bColumns = (0..<(k * n)).map { b[($0 % n) * k + $0 / n] }  // op(B) stored k-major
        // A's rows and C's rows have gaps (lda = k + 2, ldc = n + 3): NaN after each row of A, which
        // would reach an output that read it, and a sentinel after each row of C, which must
        // survive — a kernel that reads or writes a lane past its block's edge fails here.
        let lda = k + 2, ldc = n + 3, sentinel: Float = 12345
        var aPadded = [Float](repeating: .nan, count: m * lda)
        for i in 0..<m { for kk in 0..<k { aPadded[i * lda + kk] = a[i * k + kk] } }
        func product(rows: Range<Int>, threads: Int, transposed: Bool, fromRow: Bool = false, label: String) -> [Float] {
            var c = [Float](repeating: sentinel, count: rows.count * ldc)
            for (r, i) in rows.enumerated() { for j in 0..<n { c[r * ldc + j] = fromRow ? .nan : start[i * n + j] } }
            aPadded.withUnsafeBufferPointer { pa in
                (transposed ? b : bColumns).withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        Kernels.orderedProduct(m: rows.count, n: n, k: k, a: pa.baseAddress! + rows.lowerBound * lda, lda: lda, b: pb.baseAddress!,
                                               ldb: transposed ? k : n, transposeB: transposed, c: pc.baseAddress!, ldc: ldc,
                                               startingFrom: fromRow ? row : nil, threads: threads)
                    }
                }
            }
            let gaps = (0..<rows.count).flatMap { r in c[(r * ldc + n)..<((r + 1) * ldc)] }
            #expect(gaps.allSatisfy { $0 == sentinel }, "\(label): written past a row of C")
            return (0..<rows.count).flatMap { r in c[(r * ldc)..<(r * ldc + n)] }
        }
        let saved = Threads.count
        defer { Threads.count = saved; QuantizedKernels.forcePortable(false); QuantizedKernels.forceAVX2(false) }
        Threads.count = 2
        // The best kernel the CPU has, AVX2 where that is AVX-512, and the portable C.
        let levels = QuantizedKernels.avx512Level > 0 ? ["best", "avx2", "portable"] : ["best", "portable"]
        for level in levels {
            QuantizedKernels.forcePortable(level == "portable")
            QuantizedKernels.forceAVX2(level == "avx2")
            for threads in [1, 2] {
                for transposed in [true, false] {
                    let label = "\(m)×\(n)×\(k), \(level) kernels, \(threads) threads, transposed \(transposed)"
                    #expect(product(rows: 0..<m, threads: threads, transposed: transposed, label: label).map(\.bitPattern)
                        == expected.map(\.bitPattern), "\(label)")
                    let middle = (m / 3)..<min(m, m / 3 + 4)
                    #expect(product(rows: middle, threads: threads, transposed: transposed, label: label).map(\.bitPattern)
                        == expected[(middle.lowerBound * n)..<(middle.upperBound * n)].map(\.bitPattern), "\(label), rows \(middle)")
                    #expect(product(rows: 0..<m, threads: threads, transposed: transposed, fromRow: true, label: label).map(\.bitPattern)
                        == expectedFromRow.map(\.bitPattern), "\(label), from a start row")
                }
            }
        }
        QuantizedKernels.forcePortable(false)
        QuantizedKernels.forceAVX2(false)
        // Weights of another type: the chain over the dequantized values.
        if k > 0, k % 32 == 0 {
            let w = Self.matrix(.q8_0, rows: n, columns: k, seed: 94), chained = chains(w.dequantized(), from: start)
            let chainedFromRow = chains(w.dequantized(), from: rowStart)
            for threads in [1, 2] {
                var c = start
                a.withUnsafeBufferPointer { pa in c.withUnsafeMutableBufferPointer { w.accumulate(pa.baseAddress!, rows: m, into: $0.baseAddress!, outputStride: n, threads: threads) } }
                #expect(c.map(\.bitPattern) == chained.map(\.bitPattern), "q8_0 \(m)×\(n)×\(k), \(threads) threads")
                var d = [Float](repeating: .nan, count: m * n)
                a.withUnsafeBufferPointer { pa in
                    d.withUnsafeMutableBufferPointer {
                        w.accumulate(pa.baseAddress!, rows: m, into: $0.baseAddress!, outputStride: n, startingFrom: row, threads: threads)
                    }
                }
                #expect(d.map(\.bitPattern) == chainedFromRow.map(\.bitPattern), "q8_0 \(m)×\(n)×\(k) from a start row, \(threads) threads")
            }
        }
    }
}
