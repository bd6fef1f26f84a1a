import Foundation

/// Maps byte-string tokens to small dense ids, reusable across segments without reallocating.
///
/// Lookups hash the bytes (FNV-1a) and verify them against the stored copy, so two different
/// tokens never share an id. Each worker thread owns its interner.
final class TokenInterner {
    @exclusivity(unchecked) private var arena: [UInt8] = []
    @exclusivity(unchecked) private var spans: [Range<Int>] = []
    private let byHash = CountTable()
    @exclusivity(unchecked) private var collisions: [[UInt8]: Int32] = [:]

    /// Number of distinct tokens seen since the last ``reset()``.
    var count: Int { spans.count }

    /// Forgets every token but keeps the storage.
    func reset() {
        arena.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        byHash.reset()
        if !collisions.isEmpty { collisions.removeAll() }
    }

    /// The id of `bytes[range]`, assigning the next id to a new token.
    func id(of bytes: [UInt8], _ range: Range<Int>) -> Int32 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        bytes.withUnsafeBufferPointer { b in
            for i in range { hash = (hash ^ UInt64(b[i])) &* 0x0000_0100_0000_01B3 }
        }
        let hashKey = NGramKey(low: hash, high: 0)
        let stored = byHash.count(of: hashKey)
        if stored != 0 {
            let existing = stored - 1
            let span = spans[Int(existing)]
            if span.count == range.count, equal(span, bytes, range) { return existing }
            let key = Array(bytes[range])
            if let other = collisions[key] { return other }
            let id = append(bytes, range)
            collisions[key] = id
            return id
        }
        let id = append(bytes, range)
        byHash.add(hashKey, id + 1)
        return id
    }

    @inline(__always)
    private func equal(_ span: Range<Int>, _ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        arena.withUnsafeBufferPointer { a in
            bytes.withUnsafeBufferPointer { b in
                memcmp(a.baseAddress! + span.lowerBound, b.baseAddress! + range.lowerBound, range.count) == 0
            }
        }
    }

    private func append(_ bytes: [UInt8], _ range: Range<Int>) -> Int32 {
        let start = arena.count
        arena.append(contentsOf: bytes[range])
        spans.append(start..<arena.count)
        return Int32(spans.count - 1)
    }
}

/// An n-gram of up to four token ids (each stored + 1 so that shorter n-grams never collide
/// with longer ones), or of up to six Unicode scalars for character n-grams.
struct NGramKey: Hashable {
    var low: UInt64
    var high: UInt64

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// The n-gram `ids[start..<start+n]`, n ≤ 4.
    @inline(__always)
    init(ids: [Int32], start: Int, order n: Int) {
        var parts: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        parts.0 = UInt64(UInt32(bitPattern: ids[start] &+ 1))
        if n > 1 { parts.1 = UInt64(UInt32(bitPattern: ids[start + 1] &+ 1)) }
        if n > 2 { parts.2 = UInt64(UInt32(bitPattern: ids[start + 2] &+ 1)) }
        if n > 3 { parts.3 = UInt64(UInt32(bitPattern: ids[start + 3] &+ 1)) }
        low = parts.0 | parts.1 << 32
        high = parts.2 | parts.3 << 32
    }

    /// The character n-gram `scalars[start..<start+n]`, n ≤ 6 (21 bits per scalar + 1).
    @inline(__always)
    init(scalars: [UInt32], start: Int, order n: Int) {
        var lo: UInt64 = 0, hi: UInt64 = 0
        for k in 0..<n {
            let v = UInt64(scalars[start + k] + 1)
            if k < 3 { lo |= v << (21 * UInt64(k)) } else { hi |= v << (21 * UInt64(k - 3)) }
        }
        low = lo
        high = hi
    }
}
