import Foundation

/// Numbers in a server's JSON answers, read strictly: JSONSerialization hands back `true`,
/// `false`, `22.5` and `1e300` all as `NSNumber`, and `intValue` turns them into 1, 0, 22 and
/// `Int.min` — a count or a token id read that way went on into arithmetic (an overflow trap on
/// `1e300`, a perplexity of 1 from `false`).
enum ServerValue {
    /// The largest count or token id taken from a server (2^31): no request holds more tokens and
    /// no vocabulary more entries, and sums of a few such counts cannot overflow.
    static let countLimit = 1 << 31

    /// `value` as a number, or nil when it is not one (a boolean, a string, null, missing).
    static func number(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }

    /// `value` as a whole number in 0…``countLimit``, or nil.
    static func count(_ value: Any?) -> Int? {
        guard let number = number(value), number.isFinite, number >= 0, number <= Double(countLimit) else { return nil }
        return Int(exactly: number)
    }

    /// `value` as a count when it is one; nil when absent or null; a thrown
    /// ``ModelError/serverProtocol(url:message:)`` naming `field` when it is anything else.
    static func optionalCount(_ value: Any?, field: String, url: String) throws -> Int? {
        guard let value, !(value is NSNull) else { return nil }
        guard let count = count(value) else {
            throw ModelError.serverProtocol(url: url, message: "\(field) is \(value), not a whole number of tokens from 0 to \(countLimit)")
        }
        return count
    }
}
