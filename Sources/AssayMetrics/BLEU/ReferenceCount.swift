/// How many references each segment has: a fixed number, or `var` when it differs per segment.
public enum ReferenceCount: Sendable, Equatable, CustomStringConvertible {
    /// Every segment has this many references.
    case fixed(Int)
    /// The number differs between segments (sacrebleu prints `nrefs:var`).
    case variable

    /// The count for per-segment reference lists.
    public init(_ references: [[String]]) {
        let counts = Set(references.map(\.count))
        self = counts.count == 1 ? .fixed(counts.first!) : (counts.isEmpty ? .fixed(0) : .variable)
    }

    public var description: String {
        switch self {
        case let .fixed(n): return String(n)
        case .variable: return "var"
        }
    }
}
