/// A fixed-size buffer that concurrent workers fill at disjoint indices.
///
/// `@unchecked Sendable`: each index is written by exactly one worker, through a pointer that is
/// allocated once (no array copy-on-write or exclusivity checks are involved), and read only
/// after `concurrentPerform` returns.
final class ResultBuffer<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element>

    init(count: Int, initial: Element) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: initial)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    var values: [Element] { Array(storage) }
}
