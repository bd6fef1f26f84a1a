import AssayCore
import AssayMetrics
import Foundation
import Yams

/// A YAML node with its key path, so that every problem can name file, line, column and key.
struct YAMLCursor {
    let node: Node
    let path: String
    let diagnostics: Diagnostics

    var line: Int? { node.mark?.line }
    var column: Int? { node.mark?.column }

    /// Records a problem at this node.
    func error(_ message: String, hint: String? = nil) {
        diagnostics.add(SuiteDiagnostic(file: diagnostics.file, line: line, column: column, keyPath: path,
                                        message: message, hint: hint))
    }

    /// A note about this node that does not stop loading.
    func warning(_ message: String, hint: String? = nil) -> SuiteDiagnostic {
        SuiteDiagnostic(file: diagnostics.file, line: line, column: column, keyPath: path, message: message, hint: hint)
    }

    func child(_ node: Node, key: String) -> YAMLCursor {
        YAMLCursor(node: node, path: path.isEmpty ? key : "\(path).\(key)", diagnostics: diagnostics)
    }

    func element(_ node: Node, index: Int) -> YAMLCursor {
        YAMLCursor(node: node, path: "\(path)[\(index)]", diagnostics: diagnostics)
    }

    /// The resolved YAML tag of the node (plain scalars by YAML 1.1 rules, quoted ones are strings).
    var tagName: Tag.Name { Resolver.default.resolveTag(of: node) }

    /// A human name for the node's type, for "expected X, found Y".
    var typeName: String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch tagName {
            case .null: return "null"
            case .bool: return "a boolean"
            case .int: return "an integer"
            case .float: return "a number"
            default: return "a string"
            }
        }
    }

    /// The mapping's entries, after reporting keys not in `allowed` (with "did you mean").
    /// Returns nil (and records an error) when the node is not a mapping.
    func mapping(allowed: [String], what: String) -> [(key: String, value: YAMLCursor)]? {
        guard case let .mapping(mapping) = node else {
            error("expected \(what) (a mapping), found \(typeName)")
            return nil
        }
        var entries: [(key: String, value: YAMLCursor)] = []
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? ""
            let keyCursor = YAMLCursor(node: keyNode, path: path.isEmpty ? key : "\(path).\(key)", diagnostics: diagnostics)
            if !allowed.isEmpty, !allowed.contains(key) {
                let suggestion = Suggestions.closest(to: key, in: allowed)
                keyCursor.error(
                    "unknown key" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                    hint: "allowed keys here: \(allowed.joined(separator: ", "))")
                continue
            }
            entries.append((key, child(valueNode, key: key)))
        }
        return entries
    }

    /// Records "missing key" for each of `required` absent from `entries`.
    func requireKeys(_ required: [String], in entries: [(key: String, value: YAMLCursor)], example: String? = nil) -> Bool {
        var ok = true
        for key in required where !entries.contains(where: { $0.key == key }) {
            error("missing required key '\(key)'", hint: example)
            ok = false
        }
        return ok
    }

    /// A non-empty string scalar.
    func string() -> String? {
        guard case let .scalar(s) = node, tagName != .null else {
            error("expected a string, found \(typeName)")
            return nil
        }
        guard !s.string.isEmpty else {
            error("expected a non-empty string")
            return nil
        }
        return s.string
    }

    /// An integer scalar.
    func int() -> Int? {
        if case let .scalar(s) = node, tagName == .int {
            if let value = Int.construct(from: s) { return value }
            error("\(s.string) is too large for an integer (at most \(Int.max))")
            return nil
        }
        error("expected an integer, found \(typeName)")
        return nil
    }

    /// A number scalar (integers accepted).
    func double() -> Double? {
        if case let .scalar(s) = node, tagName == .int || tagName == .float, let value = Double.construct(from: s) {
            if value.isFinite { return value }
            error("expected a finite number, found \(s.string)")
            return nil
        }
        error("expected a number, found \(typeName)")
        return nil
    }

    /// A boolean scalar.
    func bool() -> Bool? {
        if case let .scalar(s) = node, tagName == .bool, let value = Bool.construct(from: s) { return value }
        error("expected true or false, found \(typeName)")
        return nil
    }

    /// A list's elements, or a single scalar as a one-element list when `allowScalar`.
    func list(allowScalar: Bool = false) -> [YAMLCursor]? {
        switch node {
        case let .sequence(sequence):
            return sequence.enumerated().map { element($1, index: $0) }
        case .scalar where allowScalar:
            return [self]
        default:
            error("expected a list, found \(typeName)")
            return nil
        }
    }
}

/// Problems collected while loading one suite.
final class Diagnostics: @unchecked Sendable {
    let file: String
    private(set) var items: [SuiteDiagnostic] = []

    init(file: String) { self.file = file }

    func add(_ diagnostic: SuiteDiagnostic) { items.append(diagnostic) }

    /// Notes that do not stop loading (a former evaluator id).
    private(set) var warnings: [SuiteDiagnostic] = []

    func warn(_ diagnostic: SuiteDiagnostic) { warnings.append(diagnostic) }

    var isEmpty: Bool { items.isEmpty }
}
