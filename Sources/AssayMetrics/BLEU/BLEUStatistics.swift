/// Sufficient statistics of BLEU for one segment or a sum of segments, as sacrebleu's
/// `[hyp_len, ref_len, correct_1…correct_N, total_1…total_N]`.
public struct BLEUStatistics: Sendable, Equatable, Codable {
    /// Hypothesis length in tokens.
    public var hypothesisLength: Int
    /// Closest reference length (ties → the shorter).
    public var referenceLength: Int
    /// Clipped n-gram matches per order.
    public var correct: [Int]
    /// Hypothesis n-grams per order.
    public var total: [Int]

    /// Empty statistics for `order` n-gram orders.
    public init(order: Int) {
        hypothesisLength = 0
        referenceLength = 0
        correct = Array(repeating: 0, count: order)
        total = Array(repeating: 0, count: order)
    }

    /// Creates statistics from their parts.
    public init(hypothesisLength: Int, referenceLength: Int, correct: [Int], total: [Int]) {
        self.hypothesisLength = hypothesisLength
        self.referenceLength = referenceLength
        self.correct = correct
        self.total = total
    }

    /// Adds `other` into these statistics (corpus aggregation).
    public mutating func add(_ other: BLEUStatistics) {
        hypothesisLength += other.hypothesisLength
        referenceLength += other.referenceLength
        for i in correct.indices {
            correct[i] += other.correct[i]
            total[i] += other.total[i]
        }
    }

    /// The sum of `items`, for `order` n-gram orders.
    public static func sum<S: Sequence>(_ items: S, order: Int) -> BLEUStatistics where S.Element == BLEUStatistics {
        var result = BLEUStatistics(order: order)
        for item in items { result.add(item) }
        return result
    }

    /// The flat sacrebleu layout `[hyp_len, ref_len, correct…, total…]`.
    public var flat: [Int] { [hypothesisLength, referenceLength] + correct + total }
}
