import AssayCore
import AssayTensor
import Foundation
import Testing

/// Decode attention's kernels over a KV cache read in place (attention.c): f16 and f32 caches give
/// the same bits for values that are halves (what keeps `ggml` numerics the same with either cache
/// type), the AVX2 and portable kernels the same bits, a group of query heads in one call the bits
/// of each head alone, and the float64 sums within rounding — at head dimensions with every
/// remainder the kernels handle (64 outputs at a time, 16 or 8 values, then one by one), position
/// counts with a remainder of four and 32, and a window that starts past the first position. In the
/// serialized suite: it forces the portable kernels.
extension QuantizedKernelTests {
    @Test(arguments: [64, 128, 72, 13, 5])
    func cachedAttentionReadsEitherCacheTheSameWay(headDimension d: Int) {
        var generator = SeededGenerator(seed: UInt64(d))
        let kvHeads = 3, stride = kvHeads * d, positions = 37 + 32, first = 4, kvHead = 2, heads = 3
        let halves = (0..<(2 * positions * stride)).map { _ in Float16(Float.random(in: -2...2, using: &generator)) }
        let keysHalf = halves[..<(positions * stride)].map(\.bitPattern), valuesHalf = halves[(positions * stride)...].map(\.bitPattern)
        let keysFloat = halves[..<(positions * stride)].map(Float.init), valuesFloat = halves[(positions * stride)...].map(Float.init)
        let q = (0..<(heads * d)).map { _ in Float.random(in: -1...1, using: &generator) }
        let p = (0..<(heads * positions)).map { _ in Float.random(in: 0...0.1, using: &generator) }
        let scale: Float = 0.125
        /// Scores and weighted values of the `heads` query heads from one cache type, in one call
        /// and then one head per call: every score slot starts at −1, so an entry before `first`
        /// that stays −1 was not written.
        func run(half: Bool) -> [(scores: [Float], out: [Float])] {
            func call(_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ bytes: Int, heads range: Range<Int>,
                      into scores: inout [Float], _ out: inout [Float]) {
                q.withUnsafeBufferPointer { q in
                    p.withUnsafeBufferPointer { p in
                        scores.withUnsafeMutableBufferPointer { scores in
                            Kernels.cachedScores(q: q.baseAddress! + range.lowerBound * d, heads: range.count, keys: keys + kvHead * d * bytes,
                                                 half: half, stride: stride, headDimension: d, positions: first..<positions, scale: scale,
                                                 into: scores.baseAddress! + range.lowerBound * positions, scoresStride: positions)
                        }
                        out.withUnsafeMutableBufferPointer { out in
                            Kernels.cachedValues(p: p.baseAddress! + range.lowerBound * positions, pStride: positions, heads: range.count,
                                                 values: values + kvHead * d * bytes, half: half, stride: stride, headDimension: d,
                                                 positions: first..<positions, into: out.baseAddress! + range.lowerBound * d)
                        }
                    }
                }
            }
            func calls(_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ bytes: Int) -> [(scores: [Float], out: [Float])] {
                var together = ([Float](repeating: -1, count: heads * positions), [Float](repeating: .nan, count: heads * d))
                var alone = together
                call(keys, values, bytes, heads: 0..<heads, into: &together.0, &together.1)
                for h in 0..<heads { call(keys, values, bytes, heads: h..<(h + 1), into: &alone.0, &alone.1) }
                return [together, alone]
            }
            if half {
                return keysHalf.withUnsafeBytes { k in valuesHalf.withUnsafeBytes { v in calls(k.baseAddress!, v.baseAddress!, 2) } }
            }
            return keysFloat.withUnsafeBytes { k in valuesFloat.withUnsafeBytes { v in calls(k.baseAddress!, v.baseAddress!, 4) } }
        }
        var results: [(scores: [Float], out: [Float])] = []
        for portable in [false, true] {
            QuantizedKernels.forcePortable(portable)
            results += run(half: true) + run(half: false)
        }
        QuantizedKernels.forcePortable(false)
        for result in results.dropFirst() {
            #expect(result.scores.map(\.bitPattern) == results[0].scores.map(\.bitPattern), "d \(d)")
            #expect(result.out.map(\.bitPattern) == results[0].out.map(\.bitPattern), "d \(d)")
        }
        let (scores, out) = results[0]
        for h in 0..<heads {
            #expect(scores[(h * positions)..<(h * positions + first)].allSatisfy { $0 == -1 }, "d \(d)")
            for j in first..<positions {
                let row = (0..<d).map { Double(q[h * d + $0]) * Double(keysFloat[j * stride + kvHead * d + $0]) }
                let expected = Double(scale) * row.reduce(0, +), magnitude = Double(scale) * row.map(abs).reduce(0, +)
                #expect(abs(Double(scores[h * positions + j]) - expected) <= 1e-6 * magnitude, "d \(d) head \(h) position \(j)")
            }
            for i in 0..<d {
                let terms: [Double] = (first..<positions).map { Double(p[h * positions + $0]) * Double(valuesFloat[$0 * stride + kvHead * d + i]) }
                let expected = terms.reduce(0, +), magnitude = terms.map(abs).reduce(0, +)
                #expect(abs(Double(out[h * d + i]) - expected) <= 1e-6 * magnitude, "d \(d) head \(h) value \(i)")
            }
        }
    }
}
