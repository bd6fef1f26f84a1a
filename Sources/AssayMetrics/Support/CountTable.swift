/// An open-addressing hash table from 128-bit keys to positive counts, for n-gram counting.
///
/// Swift's `Dictionary` hashes every key with SipHash, which dominated BLEU's profile; n-gram
/// keys need no protection against adversarial collisions, so a multiply-shift hash with
/// linear probing does. A count of 0 marks an empty slot (counts are always ≥ 1 once stored);
/// ``reset()`` clears only the slots in use, so one table is reused across segments cheaply.
///
/// A class owning raw storage: each worker thread has its own table, never shared.
final class CountTable {
    private struct Slot {
        var low: UInt64
        var high: UInt64
        var count: Int32
    }

    @exclusivity(unchecked) private var slots: UnsafeMutablePointer<Slot>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var used: UnsafeMutablePointer<Int32>
    /// Number of distinct keys.
    @exclusivity(unchecked) private(set) var count = 0

    init(capacity requested: Int = 256) {
        var size = 16
        while size < requested * 2 { size <<= 1 }
        capacity = size
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(low: 0, high: 0, count: 0), count: size)
        used = .allocate(capacity: size / 2 + 1)
    }

    deinit {
        slots.deallocate()
        used.deallocate()
    }

    @inline(__always)
    private func slot(_ key: NGramKey) -> Int {
        let h = (key.low &* 0x9E37_79B9_7F4A_7C15) ^ (key.high &* 0xC2B2_AE3D_27D4_EB4F)
        return Int(truncatingIfNeeded: (h ^ (h >> 29))) & (capacity - 1)
    }

    /// Empties the table, keeping its storage.
    func reset() {
        for k in 0..<count { slots[Int(used[k])].count = 0 }
        count = 0
    }

    /// The count of `key` (0 when absent).
    @inline(__always)
    func count(of key: NGramKey) -> Int32 {
        var i = slot(key)
        let mask = capacity - 1
        while slots[i].count != 0 {
            if slots[i].low == key.low && slots[i].high == key.high { return slots[i].count }
            i = (i + 1) & mask
        }
        return 0
    }

    /// Adds `amount` (≥ 1) to the count of `key`.
    @inline(__always)
    func add(_ key: NGramKey, _ amount: Int32 = 1) {
        let i = find(key)
        if slots[i].count == 0 { insert(key, at: i, amount) } else { slots[i].count += amount }
    }

    /// Raises the count of `key` to `value` if it is lower.
    @inline(__always)
    func raise(_ key: NGramKey, to value: Int32) {
        let i = find(key)
        if slots[i].count == 0 { insert(key, at: i, value) } else if slots[i].count < value { slots[i].count = value }
    }

    /// The slot holding `key`, or the empty slot where it would go.
    @inline(__always)
    private func find(_ key: NGramKey) -> Int {
        var i = slot(key)
        let mask = capacity - 1
        while slots[i].count != 0 {
            if slots[i].low == key.low && slots[i].high == key.high { return i }
            i = (i + 1) & mask
        }
        return i
    }

    @inline(__always)
    private func insert(_ key: NGramKey, at i: Int, _ value: Int32) {
        slots[i] = Slot(low: key.low, high: key.high, count: value)
        used[count] = Int32(i)
        count += 1
        if count * 2 >= capacity { grow() }
    }

    /// Calls `body` with each key and its count.
    @inline(__always)
    func forEach(_ body: (NGramKey, Int32) -> Void) {
        for k in 0..<count {
            let s = slots[Int(used[k])]
            body(NGramKey(low: s.low, high: s.high), s.count)
        }
    }

    private func grow() {
        let old = (0..<count).map { slots[Int(used[$0])] }
        slots.deallocate()
        used.deallocate()
        capacity *= 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Slot(low: 0, high: 0, count: 0), count: capacity)
        used = .allocate(capacity: capacity / 2 + 1)
        count = 0
        for s in old {
            let key = NGramKey(low: s.low, high: s.high)
            insert(key, at: find(key), s.count)
        }
    }
}
