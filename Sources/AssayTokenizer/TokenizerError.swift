import AssayCore
import Foundation

/// Problems loading a tokenizer.
public enum TokenizerError: AssayError, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, message: String)
    case unsupported(path: String, message: String)

    public var errorDescription: String? {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read: \(reason)"
        case let .malformed(path, message): return "\(path): \(message)"
        case let .unsupported(path, message): return "\(path): \(message)"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .unreadable: return "check the path"
        case .malformed: return "the tokenizer file is damaged; take it from the model's original repository"
        case .unsupported: return "this tokenizer type is not supported yet"
        }
    }
}
