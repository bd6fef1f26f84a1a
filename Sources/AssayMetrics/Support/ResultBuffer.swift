/// A fixed-size array that concurrent workers fill at disjoint indices.
///
/// `@unchecked Sendable`: each index is written by exactly one worker and read only after
/// `concurrentPerform` returns.
final class ResultBuffer<Element>: @unchecked Sendable {
    private var storage: [Element]

    init(count: Int, initial: Element) {
        storage = Array(repeating: initial, count: count)
    }

    subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage.withUnsafeMutableBufferPointer { $0[index] = newValue } }
    }

    var values: [Element] { storage }
}
