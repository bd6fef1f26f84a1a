import Foundation

/// A dataset as a suite declares it, with paths already resolved against the suite file.
public enum DatasetSpec: Sendable, Equatable {
    /// A whole text file (perplexity).
    case text(path: URL)
    /// Parallel text files, one segment per line: hypotheses and one or more reference files.
    case parallel(hypotheses: URL, references: [URL])
    /// JSON Lines, one item per line; `fields` says where the texts are.
    case jsonl(path: URL, fields: JSONLFields)
    /// Human ratings: a file read with a format, column mapping and declared scale.
    case ratings(path: URL, format: RatingsFormat, columns: RatingsColumns, scale: RatingScale)

    /// The kind name used in suites (`text`, `parallel`, `jsonl`).
    public var kind: DatasetKind {
        switch self {
        case .text: return .text
        case .parallel: return .parallel
        case .jsonl: return .jsonl
        case .ratings: return .ratings
        }
    }

    /// Every file the dataset reads.
    public var files: [URL] {
        switch self {
        case let .text(path): return [path]
        case let .parallel(hypotheses, references): return [hypotheses] + references
        case let .jsonl(path, _): return [path]
        case let .ratings(path, _, _, _): return [path]
        }
    }
}

/// Dataset kinds, as written in suites.
public enum DatasetKind: String, Sendable, CaseIterable {
    case text
    case parallel
    case jsonl
    case ratings
}

/// Field names of a JSONL dataset.
public struct JSONLFields: Sendable, Equatable {
    /// Field holding the hypothesis text.
    public var hypothesis: String
    /// Fields holding references: each is a string, or one field holding a list of strings.
    public var references: [String]
    /// Fields holding the item id, joined with `#` when there are several (default: the 1-based
    /// line number). Rows that repeat an id with the same texts are read once.
    public var id: [String]?

    /// Creates a field mapping.
    public init(hypothesis: String = "hypothesis", references: [String] = ["reference"], id: [String]? = nil) {
        self.hypothesis = hypothesis
        self.references = references
        self.id = id
    }
}
