@testable import AssayModels
import AssayTensor
import Foundation
import Testing

/// Causal attention against a reference computed in double, one query row and head at a time,
/// and the same bits whatever the thread counts (1–3 for the pool and OpenBLAS): the (head, block)
/// tasks go to the pool or run in order on the caller, OpenBLAS on one thread per call either way.
/// Some key counts are summed otherwise by OpenBLAS with several threads (it halves a reduction
/// between one and two block depths differently; 1128 and 1517 keys on its SkylakeX kernels).
@Suite(.serialized)
struct AttentionTests {
    struct Case {
        var start: Int, n: Int, heads: Int, kvHeads: Int, d: Int
        var window: Int? = nil, softCap: Float? = nil, f16: Bool = false
    }

    static func random(_ count: Int, _ seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2001 - 1000) / 700
        }
    }

    /// softmax over the visible keys of Q_h · K_gᵀ / √d (capped), then · V_g, all in double.
    static func reference(_ c: Case, q: [Float], keys: [Float], values: [Float]) -> [Double] {
        let width = c.heads * c.d, kvWidth = c.kvHeads * c.d, group = c.heads / c.kvHeads
        var output = [Double](repeating: 0, count: c.n * width)
        for row in 0..<c.n {
            let visible = c.start + row + 1, first = c.window.map { max(0, visible - $0) } ?? 0
            for head in 0..<c.heads {
                let g = head / group
                var scores = (first..<visible).map { key in
                    var dot = 0.0
                    for i in 0..<c.d { dot += Double(q[row * width + head * c.d + i]) * Double(keys[key * kvWidth + g * c.d + i]) }
                    let s = dot / Double(c.d).squareRoot()
                    return c.softCap.map { Double($0) * tanh(s / Double($0)) } ?? s
                }
                let top = scores.max()!
                scores = scores.map { exp($0 - top) }
                let sum = scores.reduce(0, +)
                for (index, key) in (first..<visible).enumerated() {
                    for i in 0..<c.d { output[row * width + head * c.d + i] += scores[index] / sum * Double(values[key * kvWidth + g * c.d + i]) }
                }
            }
        }
        return output
    }

    @Test(arguments: [
        Case(start: 0, n: 300, heads: 8, kvHeads: 2, d: 16),
        Case(start: 37, n: 129, heads: 4, kvHeads: 4, d: 8, window: 50),
        Case(start: 5, n: 20, heads: 6, kvHeads: 3, d: 32, softCap: 3, f16: true),
        Case(start: 200, n: 1, heads: 4, kvHeads: 1, d: 16),
        Case(start: 0, n: 333, heads: 4, kvHeads: 2, d: 16),
        Case(start: 401, n: 20, heads: 4, kvHeads: 4, d: 16),
        Case(start: 617, n: 1, heads: 64, kvHeads: 8, d: 32),
        Case(start: 1111, n: 17, heads: 4, kvHeads: 4, d: 64),
        Case(start: 1500, n: 17, heads: 4, kvHeads: 4, d: 64),
    ])
    func causalAttentionMatchesAReferenceWithAnyThreads(_ c: Case) {
        let width = c.heads * c.d, kvWidth = c.kvHeads * c.d, keysCount = c.start + c.n
        let q = Self.random(c.n * width, 1), keys = Self.random(keysCount * kvWidth, 2), values = Self.random(keysCount * kvWidth, 3)
        let expected = Self.reference(c, q: q, keys: keys, values: values)
        Self.expectSameBitsWithAnyThreads(c, expected: expected, variants: [("", {
            Attention.causal(q: q, keys: keys, values: values, start: c.start, n: c.n, f16Probabilities: c.f16,
                             heads: c.heads, kvHeads: c.kvHeads, headDimension: c.d, window: c.window, softCap: c.softCap)
        })])
    }

    /// Each of `variants` run with 1, 2 and 3 threads: every result within the case's tolerance of
    /// `expected` (f16 probabilities carry a relative rounding of 2⁻¹¹ each), and the same bits as the first.
    static func expectSameBitsWithAnyThreads(_ c: Case, expected: [Double], variants: [(label: String, run: () -> [Float])]) {
        let saved = BLAS.threads
        defer { BLAS.threads = saved }
        let tolerance = c.f16 ? 2e-3 : 2e-5
        var first: [Float]?
        for threads in [1, 2, 3] {
            BLAS.threads = threads
            for variant in variants {
                let result = variant.run()
                let worst = zip(result, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(worst < tolerance, "\(threads) threads\(variant.label): worst relative difference \(worst)")
                if let first {
                    #expect(result.map(\.bitPattern) == first.map(\.bitPattern), "\(threads) threads\(variant.label): other bits than the first")
                } else {
                    first = result
                }
            }
        }
    }

    /// Decode's attention, the cache read in place (``Attention/decoding(q:keys:values:half:start:f16Probabilities:heads:kvHeads:headDimension:window:scale:softCap:)``):
    /// the reference within rounding, the same bits from an f16 cache as from an f32 cache holding
    /// the same halves, and with any thread count (the heads on the pool from 64 K multiply-adds:
    /// the cases with 64, 32 and 9 heads: with three threads a group of eight query heads is split
    /// into slices of 4, and with two or three a group of three into slices of 2 and 1; at 20,001
    /// positions a group of eight into slices of 3, 3 and 2 on one thread, of 2 on more, to bound
    /// the scores a slice holds).
    @Test(arguments: [
        Case(start: 0, n: 1, heads: 4, kvHeads: 2, d: 16),
        Case(start: 200, n: 1, heads: 4, kvHeads: 1, d: 16),
        Case(start: 90, n: 1, heads: 6, kvHeads: 3, d: 32, window: 50, softCap: 3, f16: true),
        Case(start: 617, n: 1, heads: 64, kvHeads: 8, d: 32),
        Case(start: 40, n: 1, heads: 32, kvHeads: 4, d: 64, f16: true),
        Case(start: 12, n: 1, heads: 3, kvHeads: 3, d: 13),
        Case(start: 300, n: 1, heads: 9, kvHeads: 3, d: 64),
        Case(start: 20_000, n: 1, heads: 8, kvHeads: 1, d: 16),
    ])
    func decodingReadsTheCacheInPlace(_ c: Case) {
        let width = c.heads * c.d, kvWidth = c.kvHeads * c.d, keysCount = c.start + 1
        // Keys and values that are halves, as an f16 cache holds them.
        let q = Self.random(width, 1)
        let keys = Self.random(keysCount * kvWidth, 2).map { Float(Float16($0)) }, values = Self.random(keysCount * kvWidth, 3).map { Float(Float16($0)) }
        let halfKeys = keys.map { Float16($0).bitPattern }, halfValues = values.map { Float16($0).bitPattern }
        let expected = Self.reference(c, q: q, keys: keys, values: values)
        Self.expectSameBitsWithAnyThreads(c, expected: expected, variants: [
            (", f16 cache", {
                halfKeys.withUnsafeBytes { k in
                    halfValues.withUnsafeBytes { v in
                        Attention.decoding(q: q, keys: k.baseAddress!, values: v.baseAddress!, half: true, start: c.start, f16Probabilities: c.f16,
                                           heads: c.heads, kvHeads: c.kvHeads, headDimension: c.d, window: c.window, softCap: c.softCap)
                    }
                }
            }),
            (", f32 cache", {
                keys.withUnsafeBytes { k in
                    values.withUnsafeBytes { v in
                        Attention.decoding(q: q, keys: k.baseAddress!, values: v.baseAddress!, half: false, start: c.start, f16Probabilities: c.f16,
                                           heads: c.heads, kvHeads: c.kvHeads, headDimension: c.d, window: c.window, softCap: c.softCap)
                    }
                }
            }),
        ])
    }

    /// Decode's slices of the query heads that share a KV head: every head in exactly one slice
    /// (none empty), every thread asked for busy once the heads hold 64 K multiply-adds (as many
    /// slices as threads, or one a head), and at most 64 K scores a slice (one head's when the
    /// context is longer).
    @Test func decodingSlicesCoverEveryHeadOnceAndBoundTheScores() {
        for (heads, kvHeads) in [(32, 4), (9, 3), (4, 1), (64, 8), (3, 3), (6, 3), (1, 1), (14, 2), (8, 1), (32, 8), (40, 8)] {
            for threads in [1, 2, 3, 8] {
                for visible in [1, 40, 512, 8_191, 20_001, 70_000] {
                    let (sliceHeads, slicesPerGroup, parts) = Attention.decodingSlices(heads: heads, kvHeads: kvHeads, visible: visible,
                                                                                       headDimension: 64, threads: threads)
                    let group = heads / kvHeads, label = "\(heads)/\(kvHeads) heads, \(threads) threads, \(visible) positions"
                    #expect(sliceHeads >= 1 && slicesPerGroup * sliceHeads >= group && (slicesPerGroup - 1) * sliceHeads < group, "\(label)")
                    #expect(sliceHeads * visible <= 1 << 16 || sliceHeads == 1, "\(label): \(sliceHeads) heads of scores")
                    #expect(parts >= 1 && parts <= threads && parts <= kvHeads * slicesPerGroup, "\(label)")
                    if visible * heads * 64 >= 1 << 16 {
                        #expect(parts == min(threads, heads), "\(label): \(parts) threads")
                    }
                }
            }
        }
    }
}
