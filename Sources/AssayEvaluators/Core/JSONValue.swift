import AssayCore
import Foundation

/// A JSON value, for per-item statistics and report fields whose shape varies by evaluator.
public enum JSONValue: Sendable, Equatable, Codable, Hashable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case let .bool(b): try c.encode(b)
        case let .number(d): if d.isFinite { try c.encode(d) } else { try c.encodeNil() }
        case let .string(s): try c.encode(s)
        case let .array(a): try c.encode(a)
        case let .object(o): try c.encode(o)
        }
    }

    /// The number, if this is one.
    public var number: Double? { if case let .number(d) = self { return d } else { return nil } }
    /// The string, if this is one.
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    /// The array, if this is one.
    public var array: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
}

extension JSONValue {
    /// This value with every registered secret masked in its strings (``Redaction/maskSecrets(_:)``):
    /// how item rows reach the store and shard files, which keep texts exactly otherwise.
    public func maskingSecrets() -> JSONValue {
        switch self {
        case let .string(text): .string(Redaction.maskSecrets(text))
        case let .array(values): .array(values.map { $0.maskingSecrets() })
        case let .object(fields): .object(fields.mapValues { $0.maskingSecrets() })
        case .null, .bool, .number: self
        }
    }
}
