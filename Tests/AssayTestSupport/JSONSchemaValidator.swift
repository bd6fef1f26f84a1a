import Foundation

/// A JSON Schema validator for the subset our schemas use: `type` (string or list), `const`,
/// `enum`, `properties`, `required`, `additionalProperties: false`, `items`, `minimum`,
/// `minLength`, `pattern` and local `$ref` (`#/$defs/…`).
public struct JSONSchemaValidator {
    let root: [String: Any]

    /// Loads the schema at `url`.
    public init(schemaAt url: URL) throws {
        root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    /// Every violation of the schema by the JSON document `data`, as "path: problem".
    public func violations(of data: Data) throws -> [String] {
        let value = try JSONDecoder().decode(Value.self, from: data).any
        var problems: [String] = []
        check(value, against: root, path: "$", problems: &problems)
        return problems
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let ref = schema["$ref"] as? String, ref.hasPrefix("#/") else { return schema }
        var node: Any = root
        for part in ref.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return node as? [String: Any] ?? [:]
    }

    private func typeName(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if value is Bool { return "boolean" }
        if let d = value as? Double { return d == d.rounded() ? "integer" : "number" }
        if value is String { return "string" }
        if value is [Any] { return "array" }
        if value is [String: Any] { return "object" }
        return "unknown"
    }

    private func check(_ value: Any, against raw: [String: Any], path: String, problems: inout [String]) {
        let schema = resolve(raw)
        if let type = schema["type"] {
            let allowed = (type as? [String]) ?? [type as? String ?? ""]
            let actual = typeName(value)
            let ok = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !ok { problems.append("\(path): expected \(allowed.joined(separator: "|")), found \(actual)"); return }
        }
        if let constant = schema["const"] as? String, (value as? String) != constant {
            problems.append("\(path): expected constant \(constant)")
        }
        if let options = schema["enum"] as? [String], !options.contains(value as? String ?? "\u{0}") {
            problems.append("\(path): \(value) not in \(options)")
        }
        if let minimum = (schema["minimum"] as? NSNumber)?.doubleValue, let n = value as? Double, n < minimum {
            problems.append("\(path): \(n) below minimum \(minimum)")
        }
        if let s = value as? String {
            if let minLength = schema["minLength"] as? Int, s.count < minLength { problems.append("\(path): shorter than \(minLength)") }
            if let pattern = schema["pattern"] as? String, s.range(of: pattern, options: .regularExpression) == nil {
                problems.append("\(path): '\(s)' does not match \(pattern)")
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(path): missing required '\(key)'")
            }
            for (key, child) in object {
                if let sub = properties[key] as? [String: Any] {
                    check(child, against: sub, path: "\(path).\(key)", problems: &problems)
                } else if (schema["additionalProperties"] as? Bool) == false {
                    problems.append("\(path): unexpected property '\(key)'")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (i, element) in array.enumerated() { check(element, against: items, path: "\(path)[\(i)]", problems: &problems) }
        }
    }
}

/// A JSON document decoded with booleans kept apart from numbers.
private enum Value: Decodable {
    case null, bool(Bool), number(Double), string(String), array([Value]), object([String: Value])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([Value].self) { self = .array(a) }
        else { self = .object(try c.decode([String: Value].self)) }
    }

    var any: Any {
        switch self {
        case .null: return NSNull()
        case let .bool(b): return b
        case let .number(d): return d
        case let .string(s): return s
        case let .array(a): return a.map(\.any)
        case let .object(o): return o.mapValues(\.any)
        }
    }
}
