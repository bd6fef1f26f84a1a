import AssayCore
import AssayMetrics
import Dispatch
import Foundation

/// Hypotheses with their references, the input of BLEU and chrF.
public struct ParallelCorpus: Sendable, Equatable {
    /// Item ids (JSONL id field or 1-based line numbers).
    public var ids: [String]
    /// One hypothesis per item.
    public var hypotheses: [String]
    /// The references of each item (the count may vary per item in JSONL datasets).
    public var references: [[String]]

    /// Creates a corpus.
    public init(ids: [String], hypotheses: [String], references: [[String]]) {
        self.ids = ids
        self.hypotheses = hypotheses
        self.references = references
    }

    /// Loads a `parallel` or `jsonl` dataset.
    /// - Throws: ``EvaluatorError`` naming the file and line of the first problem.
    public static func load(_ spec: DatasetSpec, evaluator: String) throws -> ParallelCorpus {
        switch spec {
        case let .parallel(hypotheses, references):
            return try fromTextFiles(hypotheses: hypotheses, references: references)
        case let .jsonl(path, fields):
            return try fromJSONL(path, fields: fields)
        case .text, .ratings:
            throw EvaluatorError.wrongDatasetKind(evaluator: evaluator, got: spec.kind.rawValue, accepted: ["parallel", "jsonl"])
        }
    }

    /// Text files as sacrebleu's command line reads them: UTF-8, one segment per line, each line
    /// right-stripped; an empty reference line is an empty reference.
    /// - Throws: ``MetricsError`` for unreadable files, bad UTF-8 or differing line counts.
    public static func fromTextFiles(hypotheses: URL, references: [URL]) throws -> ParallelCorpus {
        // Read every file at once (one per core); the first error in file order wins.
        let files = [hypotheses] + references
        let loaded = LoadedFiles(count: files.count)
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            loaded.set(i, Result { try UTF8Lines.read(files[i]) })
        }
        let contents = try loaded.results.map { try $0!.get() }
        let hyps = contents[0]
        var refs = [[String]](repeating: [], count: hyps.count)
        for (url, lines) in zip(references, contents.dropFirst()) {
            guard lines.count == hyps.count else {
                throw MetricsError.lineCountMismatch(hypotheses: hyps.count, references: lines.count, referencePath: url.path)
            }
            for (i, line) in lines.enumerated() { refs[i].append(line) }
        }
        return ParallelCorpus(ids: (1...max(hyps.count, 1)).prefix(hyps.count).map(String.init), hypotheses: hyps, references: refs)
    }

    /// A JSON Lines file: each line an object with the hypothesis field and reference fields
    /// (a string each, or one field with a list of strings, whose length may vary per line).
    /// Blank lines are skipped. Ids come from `fields.id` (several fields joined with `#`) or the
    /// line number; a repeated id is read once when its texts are the same (files with one row per
    /// rater) and is an error otherwise.
    public static func fromJSONL(_ url: URL, fields: JSONLFields) throws -> ParallelCorpus {
        let lines = try UTF8Lines.read(url, rstrip: false)
        var corpus = ParallelCorpus(ids: [], hypotheses: [], references: [])
        var seen: [String: Int] = [:]
        for (index, line) in lines.enumerated() where !PythonText.strip(line).isEmpty {
            let number = index + 1
            func fail(_ message: String, _ hint: String? = nil) -> EvaluatorError {
                .malformedDataset(path: url.path, line: number, message: message, hint: hint)
            }
            let object: [String: Any]
            do { object = try JSONLine.object(line) } catch {
                throw fail(error.message, "each line must be one JSON object, e.g. {\"\(fields.hypothesis)\": \"…\", \"\(fields.references.first ?? "reference")\": \"…\"}")
            }
            guard let hypothesis = object[fields.hypothesis] as? String else {
                throw fail("field '\(fields.hypothesis)' is missing or not a string",
                           "fields present: \(object.keys.sorted().joined(separator: ", "))")
            }
            var references: [String] = []
            for field in fields.references {
                switch object[field] {
                case let s as String: references.append(s)
                case let list as [Any]:
                    for element in list {
                        guard let s = element as? String else { throw fail("field '\(field)' must hold strings only") }
                        references.append(s)
                    }
                case is NSNull: break
                default:
                    throw fail("field '\(field)' is missing or not a string or a list of strings",
                               "fields present: \(object.keys.sorted().joined(separator: ", "))")
                }
            }
            guard !references.isEmpty else {
                throw fail("no reference: \(fields.references.map { "'\($0)'" }.joined(separator: ", ")) \(fields.references.count == 1 ? "is" : "are") null or empty",
                           "give every item at least one reference text (an empty string is a reference)")
            }
            var id = String(number)
            if let idFields = fields.id {
                var parts: [String] = []
                for field in idFields {
                    switch object[field] {
                    case let s as String: parts.append(s)
                    case let n as NSNumber: parts.append(n.stringValue)
                    default: throw fail("id field '\(field)' is missing")
                    }
                }
                id = parts.joined(separator: "#")
            }
            if let first = seen[id] {
                guard corpus.hypotheses[first] == hypothesis, corpus.references[first] == references else {
                    throw fail("item id '\(id)' appears again with different texts", "ids must be unique, or repeat the same texts")
                }
                continue
            }
            seen[id] = corpus.ids.count
            corpus.ids.append(id)
            corpus.hypotheses.append(hypothesis)
            corpus.references.append(references)
        }
        return corpus
    }

    /// Checks that a merge's rows (every shard's, in shard order) are this corpus's items in order
    /// with its texts (a registered secret masked, as shard files keep them): a shard file edited
    /// after its run — rows reordered, an id or a text changed — had been merged as it was
    /// (found by probing, 2026-12-07).
    func checkMerged(_ items: [ItemRow], hypothesisKey: String = "hypothesis") throws {
        for (index, row) in items.enumerated() {
            guard index < ids.count else { throw row.malformed("it is row \(index + 1), and the dataset has \(ids.count) items") }
            guard row.id == ids[index] else { throw row.malformed("it is row \(index + 1), which should be item '\(ids[index])'") }
            for (key, text) in itemTexts(index, hypothesisKey: hypothesisKey) where row.values[key] != text.maskingSecrets() {
                throw row.malformed("its \(key) is not the dataset's")
            }
        }
    }

    /// ``checkMerged(_:hypothesisKey:)``, and each row's `stats` (`width` counts) those that
    /// `statistics` gives its texts: counts edited but still plausible had merged a BLEU of 97.95
    /// where the run gave 61.89 (found by probing, 2026-12-07).
    func checkMerged(_ items: [ItemRow], statistics: (_ hypotheses: [String], _ references: [[String]]) -> [[Int]], width: Int) throws {
        try checkMerged(items)
        let expected = statistics(Array(hypotheses.prefix(items.count)), Array(references.prefix(items.count)))
        for (row, expected) in zip(items, expected) {
            let flat = try row.counts("stats", count: width)
            guard flat == expected else { throw row.malformed("its statistics \(flat) are not those of its texts, \(expected)") }
        }
    }

    /// Item `index`'s texts for its per-item row — its hypothesis (under `hypothesisKey`:
    /// `prompt` where the hypotheses are a model's prompts) and `references` — which the HTML
    /// report shows in its drill-down and the items file keeps.
    public func itemTexts(_ index: Int, hypothesisKey: String = "hypothesis") -> [String: JSONValue] {
        [hypothesisKey: .string(hypotheses[index]), "references": .array(references[index].map { .string($0) })]
    }
}

/// Results of reading files concurrently, one slot per file.
private final class LoadedFiles: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var results: [Result<[String], any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[String], any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }
}
