import Foundation

/// Checks hyper-parameters read from a checkpoint (GGUF metadata, `config.json`) before any
/// arithmetic touches them: counts positive and within what any real model uses, divisions exact,
/// floating-point values finite and positive. Each failure names the key and the value
/// (``ModelError/invalidMetadata(path:key:value:reason:)``) instead of a trap later.
struct MetadataCheck {
    /// The checkpoint, for messages.
    let path: String

    /// Generous bounds: far above any published model, far below what overflows or exhausts memory.
    enum Limit {
        static let layers = 1 << 12
        static let width = 1 << 18
        static let heads = 1 << 12
        static let headDimension = 1 << 13
        static let feedForward = 1 << 21
        static let vocabulary = 1 << 24
        static let context = 1 << 30
    }

    /// `value` when it is in `minimum...maximum`.
    func count(_ value: Int, _ key: String, minimum: Int = 1, maximum: Int) throws -> Int {
        guard value >= minimum, value <= maximum else {
            throw ModelError.invalidMetadata(path: path, key: key, value: String(value),
                                             reason: value < minimum ? "it must be at least \(minimum)" : "it must be at most \(maximum)")
        }
        return value
    }

    /// `value` when it divides `total` (`what` names the quotient, for the message).
    func divides(_ value: Int, _ key: String, into total: Int, _ totalKey: String) throws {
        guard total % value == 0 else {
            throw ModelError.invalidMetadata(path: path, key: key, value: String(value), reason: "it does not divide \(totalKey) (\(total))")
        }
    }

    /// `value` as a Float when it is finite and positive (and at most `maximum`).
    func positive(_ value: Double, _ key: String, maximum: Double = .greatestFiniteMagnitude) throws -> Float {
        guard value.isFinite, value > 0, value <= maximum, Float(value) > 0, Float(value).isFinite else {
            throw ModelError.invalidMetadata(path: path, key: key, value: String(value),
                                             reason: value.isFinite && value > maximum ? "it must be at most \(maximum)" : "it must be a finite number above 0")
        }
        return Float(value)
    }
}
