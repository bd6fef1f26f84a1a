/// Candidate merges, least `priority` first (a negated score, or a rank), ties → leftmost.
struct MergeHeap {
    /// The merge loop of both BPE kinds, as llama.cpp's tokenizer sessions and Hugging Face's
    /// `merge_word` run it: symbols of `lengths` linked left to right, candidate pairs in a heap
    /// (O(n log n) in the symbols' count), the pair of least priority merged first (ties →
    /// leftmost), a queued pair skipped once either symbol changed. `priority(left, right, size)`
    /// gives a pair's priority (nil: no merge; `size` is their joined length); `join(left, right)`
    /// is called before `right` is merged into `left`. Returns the surviving symbols, left to right.
    static func merge(lengths: [Int], priority: (_ left: Int, _ right: Int, _ size: Int) -> Double?,
                      join: (_ left: Int, _ right: Int) -> Void = { _, _ in }) -> [(index: Int, length: Int)] {
        let count = lengths.count
        guard count > 0 else { return [] }
        var length = lengths
        var previous = Array(-1..<(count - 1)), next = Array(1...count)
        next[count - 1] = -1
        var heap = MergeHeap()
        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let size = length[left] + length[right]
            if let p = priority(left, right, size) { heap.push(Pair(priority: p, left: left, right: right, size: size)) }
        }
        for k in 1..<count { consider(k - 1, k) }
        while let pair = heap.pop() {
            let left = pair.left, right = pair.right
            // Either symbol changed since the pair was queued: it is stale.
            guard length[left] > 0, length[right] > 0, length[left] + length[right] == pair.size else { continue }
            join(left, right)
            length[left] = pair.size
            length[right] = 0
            next[left] = next[right]
            if next[right] >= 0 { previous[next[right]] = left }
            consider(previous[left], left)
            consider(left, next[left])
        }
        var out: [(index: Int, length: Int)] = []
        var k = 0
        while k >= 0 {
            out.append((k, length[k]))
            k = next[k]
        }
        return out
    }

    struct Pair {
        var priority: Double
        var left: Int
        var right: Int
        var size: Int

        func precedes(_ other: Pair) -> Bool { priority < other.priority || (priority == other.priority && left < other.left) }
    }

    private var items: [Pair] = []

    mutating func push(_ pair: Pair) {
        items.append(pair)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Pair? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var best = parent
                if left < items.count, items[left].precedes(items[best]) { best = left }
                if right < items.count, items[right].precedes(items[best]) { best = right }
                guard best != parent else { break }
                items.swapAt(parent, best)
                parent = best
            }
        }
        return top
    }
}
