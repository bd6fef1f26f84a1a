import AssayCore
import AssayTensor
import Foundation
import Testing

/// Decode attention's kernels over a KV cache read in place (attention.c): f16 and f32 caches give
/// the same bits for values that are halves (what keeps `ggml` numerics the same with either cache
/// type), the AVX2 and portable kernels the same bits, and both the float64 sums within rounding —
/// at head dimensions with every remainder the kernels handle (16 at a time, 8, then one by one)
/// and a window that starts past the first position. In the serialized suite: it forces the
/// portable kernels.
extension QuantizedKernelTests {
    @Test(arguments: [64, 128, 72, 13, 5])
    func cachedAttentionReadsEitherCacheTheSameWay(headDimension d: Int) {
        var generator = SeededGenerator(seed: UInt64(d))
        let kvHeads = 3, stride = kvHeads * d, positions = 37, first = 4, head = 2
        let halves = (0..<(2 * positions * stride)).map { _ in Float16(Float.random(in: -2...2, using: &generator)) }
        let keysHalf = halves[..<(positions * stride)].map(\.bitPattern), valuesHalf = halves[(positions * stride)...].map(\.bitPattern)
        let keysFloat = halves[..<(positions * stride)].map(Float.init), valuesFloat = halves[(positions * stride)...].map(Float.init)
        let q = (0..<d).map { _ in Float.random(in: -1...1, using: &generator) }
        let p = (0..<positions).map { _ in Float.random(in: 0...0.1, using: &generator) }
        let scale: Float = 0.125
        /// Scores and weighted values from one cache type: every score slot starts at −1, so an
        /// entry before `first` that stays −1 was not written.
        func run(half: Bool) -> (scores: [Float], out: [Float]) {
            var scores = [Float](repeating: -1, count: positions), out = [Float](repeating: .nan, count: d)
            func call(_ keys: UnsafeRawPointer, _ values: UnsafeRawPointer, _ bytes: Int) {
                Kernels.cachedScores(q: q, keys: keys + head * d * bytes, half: half, stride: stride, headDimension: d,
                                     positions: first..<positions, scale: scale, into: &scores)
                Kernels.cachedValues(p: p, values: values + head * d * bytes, half: half, stride: stride, headDimension: d,
                                     positions: first..<positions, into: &out)
            }
            if half {
                keysHalf.withUnsafeBytes { k in valuesHalf.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!, 2) } }
            } else {
                keysFloat.withUnsafeBytes { k in valuesFloat.withUnsafeBytes { v in call(k.baseAddress!, v.baseAddress!, 4) } }
            }
            return (scores, out)
        }
        var results: [(scores: [Float], out: [Float])] = []
        for portable in [false, true] {
            QuantizedKernels.forcePortable(portable)
            results += [run(half: true), run(half: false)]
        }
        QuantizedKernels.forcePortable(false)
        for result in results.dropFirst() {
            #expect(result.scores.map(\.bitPattern) == results[0].scores.map(\.bitPattern), "d \(d)")
            #expect(result.out.map(\.bitPattern) == results[0].out.map(\.bitPattern), "d \(d)")
        }
        let (scores, out) = results[0]
        #expect(scores[..<first].allSatisfy { $0 == -1 }, "d \(d)")
        for j in first..<positions {
            let row = (0..<d).map { Double(q[$0]) * Double(keysFloat[j * stride + head * d + $0]) }
            let expected = Double(scale) * row.reduce(0, +), magnitude = Double(scale) * row.map(abs).reduce(0, +)
            #expect(abs(Double(scores[j]) - expected) <= 1e-6 * magnitude, "d \(d) position \(j)")
        }
        for i in 0..<d {
            let terms = (first..<positions).map { Double(p[$0]) * Double(valuesFloat[$0 * stride + head * d + i]) }
            #expect(abs(Double(out[i]) - terms.reduce(0, +)) <= 1e-6 * terms.map(abs).reduce(0, +), "d \(d) value \(i)")
        }
    }
}
