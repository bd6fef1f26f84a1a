import AssayCore

/// A sacrebleu-compatible MT tokenizer: turns one segment into space-separated tokens.
///
/// The result is UTF-8 bytes because n-gram extraction works on bytes; it splits the output on
/// Python whitespace exactly as sacrebleu's `line.split()` does.
public protocol MTTokenizer: Sendable {
    /// The name used on the command line, in suites and in signatures (`tok:13a`).
    static var name: String { get }
    /// Creates the tokenizer.
    init()
    /// The tokenized `line` as UTF-8 bytes.
    func tokenize(_ line: String) -> [UInt8]
}

/// The registry of MT tokenizers, keyed by their signature names.
public enum MTTokenizers {
    /// Names of every registered tokenizer, sorted.
    public static var names: [String] { registered.keys.sorted() }

    /// A tokenizer by name.
    /// - Throws: ``MetricsError/unknownName(kind:name:suggestion:valid:)`` with a suggestion.
    public static func make(_ name: String) throws -> any MTTokenizer {
        guard let type = registered[name] else {
            throw MetricsError.unknownName(
                kind: "tokenizer", name: name,
                suggestion: Suggestions.closest(to: name, in: names), valid: names)
        }
        return type.init()
    }

    static let registered: [String: any MTTokenizer.Type] = {
        var table: [String: any MTTokenizer.Type] = [:]
        for type in builtins {
            precondition(table[type.name] == nil, "duplicate tokenizer \(type.name)")
            table[type.name] = type
        }
        return table
    }()
}
