import Foundation

/// One option an evaluator accepts in a suite's `options:` mapping.
///
/// The suite loader checks every option against its spec (type, range, allowed values) and
/// reports the file, line, column and key path of a bad one; `assay list` prints the specs.
public struct OptionSpec: Sendable, Equatable {
    /// The kind of value an option takes.
    public enum Kind: Sendable, Equatable {
        /// A boolean.
        case bool
        /// An integer from `minimum` to `maximum`.
        case integer(minimum: Int, maximum: Int = Int.max)
        /// A number greater than `exclusiveMinimum` (or any number when nil) and at most `maximum`
        /// (by default 10^15: larger values are typos, and would overflow what they feed).
        case number(exclusiveMinimum: Double?, maximum: Double = 1e15)
        /// Free text.
        case string
        /// One of a fixed set of names.
        case choice([String])

        /// A short description for `assay list`.
        public var description: String {
            switch self {
            case .bool: return "bool"
            case let .integer(minimum, maximum): return maximum == .max ? "integer ≥ \(minimum)" : "integer \(minimum)…\(maximum)"
            case let .number(exclusiveMinimum, _): return exclusiveMinimum.map { "number > \(Self.format($0))" } ?? "number"
            case .string: return "string"
            case let .choice(values): return values.joined(separator: "|")
            }
        }

        /// `d` without a fraction when it is whole and below 10^15, in exponent form from there, else as is.
        public static func format(_ d: Double) -> String {
            if abs(d) >= 1e15, d.isFinite { return String(format: "%g", d) }
            return d.isFinite && d == d.rounded() ? String(Int(d)) : String(d)
        }
    }

    /// Key in the suite (`snake_case`).
    public var name: String
    /// The kind of value.
    public var kind: Kind
    /// The value when the suite does not set it; nil means "unset" (the evaluator decides).
    public var defaultValue: OptionValue?
    /// One line for `assay list`.
    public var summary: String

    /// Creates an option description.
    public init(_ name: String, _ kind: Kind, default defaultValue: OptionValue?, _ summary: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.summary = summary
    }
}

/// A validated option value.
public enum OptionValue: Sendable, Equatable, CustomStringConvertible {
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case string(String)

    public var description: String {
        switch self {
        case let .bool(b): return String(b)
        case let .integer(i): return String(i)
        case let .number(d): return OptionSpec.Kind.format(d)
        case let .string(s): return s
        }
    }

    /// The value as JSON, for reports.
    public var json: JSONValue {
        switch self {
        case let .bool(b): return .bool(b)
        case let .integer(i): return .number(Double(i))
        case let .number(d): return .number(d)
        case let .string(s): return .string(s)
        }
    }
}

/// Validated options of one evaluation, defaults filled in.
public struct OptionValues: Sendable, Equatable {
    /// Values by option name.
    public var values: [String: OptionValue]

    /// Creates option values.
    public init(_ values: [String: OptionValue] = [:]) { self.values = values }

    /// Defaults of `specs`, overridden by `given`.
    public init(specs: [OptionSpec], given: [String: OptionValue]) {
        var values: [String: OptionValue] = [:]
        for spec in specs { if let d = spec.defaultValue { values[spec.name] = d } }
        for (k, v) in given { values[k] = v }
        self.values = values
    }

    /// A boolean option (false when unset).
    public func bool(_ name: String) -> Bool { if case let .bool(b)? = values[name] { return b } else { return false } }

    /// An integer option.
    public func integer(_ name: String) -> Int? { if case let .integer(i)? = values[name] { return i } else { return nil } }

    /// A numeric option (integers widen).
    public func number(_ name: String) -> Double? {
        switch values[name] {
        case let .number(d)?: return d
        case let .integer(i)?: return Double(i)
        default: return nil
        }
    }

    /// A string or choice option.
    public func string(_ name: String) -> String? { if case let .string(s)? = values[name] { return s } else { return nil } }
}
