import Dispatch

/// A fixed-size buffer that concurrent workers fill at disjoint indices.
///
/// `@unchecked Sendable`: each index is written by exactly one worker, through a pointer that is
/// allocated once (no array copy-on-write or exclusivity checks are involved), and read only
/// after `concurrentPerform` returns.
public final class ResultBuffer<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element>

    public init(count: Int, initial: Element) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: initial)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    public subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    public var values: [Element] { Array(storage) }
}

extension RandomAccessCollection where Self: Sendable {
    /// `transform` of every element in order, computed in `threads` contiguous chunks on as many
    /// of `concurrentPerform`'s threads (serially when there are fewer than `minimumChunk`
    /// elements per chunk or one thread). `transform` must be safe to call concurrently.
    public func concurrentMap<T>(threads: Int, minimumChunk: Int = 16, _ transform: @Sendable (Element) -> T) -> [T] {
        let n = count
        let chunks = Swift.max(1, Swift.min(n / Swift.max(1, minimumChunk), threads))
        guard chunks > 1 else { return map(transform) }
        let results = ResultBuffer<T?>(count: n, initial: nil)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let lower = n * chunk / chunks, upper = n * (chunk + 1) / chunks
            var index = self.index(startIndex, offsetBy: lower)
            for i in lower..<upper {
                results[i] = transform(self[index])
                formIndex(after: &index)
            }
        }
        return results.values.map { $0! }
    }
}
