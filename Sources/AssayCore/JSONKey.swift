/// A coding key made at run time, for JSON objects whose keys depend on options
/// (`p99_ttft_ms`, `kld_p95`, …) but whose values are still typed.
public struct JSONKey: CodingKey, Hashable, Sendable, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }

    public init(_ name: String) { stringValue = name }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
    public init(stringLiteral value: String) { stringValue = value }
}

extension KeyedEncodingContainer where Key == JSONKey {
    /// Encodes `value` under `name`, writing `null` for nil (not omitting the key, as the
    /// synthesized conformances do): output keys stay the same whatever the run measured.
    public mutating func encode<T: Encodable>(_ value: T?, _ name: String) throws {
        if let value { try encode(value, forKey: JSONKey(name)) } else { try encodeNil(forKey: JSONKey(name)) }
    }
}
