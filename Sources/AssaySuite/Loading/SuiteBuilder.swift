import AssayCore
import AssayEvaluators
import AssayMetrics
import Foundation
import Yams

/// Walks a parsed suite, validating as it goes; problems go to the shared diagnostics.
struct SuiteBuilder {
    let file: URL
    let environment: [String: String]
    let diagnostics: Diagnostics

    init(file: URL, environment: [String: String], diagnostics: Diagnostics) {
        self.file = file
        self.environment = environment
        self.diagnostics = diagnostics
    }

    static let topKeys = ["version", "name", "description", "models", "datasets", "evaluations", "gates"]

    mutating func build(_ root: YAMLCursor, contentHash: String) -> Suite? {
        guard let entries = root.mapping(allowed: Self.topKeys, what: "the suite") else { return nil }
        let example = "a suite starts with `version: 1` and `name: my-suite`"
        _ = root.requireKeys(["version", "name", "evaluations"], in: entries, example: example)
        var suite = Suite(file: file, contentHash: contentHash, name: "", description: nil, models: [], datasets: [:],
                          evaluations: [], gates: [])
        var evaluationsCursor: YAMLCursor?
        var gatesCursor: YAMLCursor?
        // Entries declared with an error of their own: a reference to one is not "unknown" too.
        var broken = BrokenEntries()
        for (key, value) in entries {
            switch key {
            case "version":
                if let version = value.int(), version != 1 {
                    value.error("unsupported suite version \(version)", hint: "this Assay reads `version: 1`")
                }
            case "name":
                if let name = expand(value) {
                    if name.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]*$", options: .regularExpression) == nil {
                        value.error("invalid suite name '\(name)'", hint: "use letters, digits, '.', '_' and '-' (it names the report folder)")
                    } else if name.count > Self.longestName {
                        value.error("suite name is \(name.count) characters long; at most \(Self.longestName)",
                                    hint: "shorten it: it names the report folder, and a file name has at most 255 bytes")
                    } else {
                        suite.name = name
                    }
                }
            case "description":
                suite.description = value.string()
            case "models":
                suite.models = models(value)
                broken.models = reported(Self.declaredNames(value).subtracting(suite.models.map(\.name)), under: "models")
            case "datasets":
                suite.datasets = datasets(value)
                broken.datasets = reported(Self.declaredNames(value).subtracting(suite.datasets.keys), under: "datasets")
            case "evaluations":
                evaluationsCursor = value
            case "gates":
                gatesCursor = value
            default:
                break
            }
        }
        if let evaluationsCursor {
            suite.evaluations = evaluations(evaluationsCursor, suite: suite, broken: broken)
            let valid = Set(suite.evaluations.map(\.id))
            // Broken: an error reported for it, or it names a broken dataset or model (and was
            // dropped for that without a second message).
            broken.evaluations = Set(Self.declaredEvaluations(evaluationsCursor).enumerated().compactMap { index, entry in
                guard let id = entry.id, !valid.contains(id) else { return nil }
                let usesBroken = entry.dataset.map(broken.datasets.contains) == true
                    || !entry.models.isDisjoint(with: broken.models)
                return hasError(under: "evaluations[\(index)]") || usesBroken ? id : nil
            })
        }
        suite.warnings = diagnostics.warnings
        if let gatesCursor { suite.gates = gates(gatesCursor, evaluations: suite.evaluations, broken: broken) }
        return suite
    }

    /// The names among `names` that an error was reported for, at or under `section.<name>` (an
    /// entry dropped without a message of its own stays "unknown" where it is used).
    func reported(_ names: Set<String>, under section: String) -> Set<String> {
        names.filter { hasError(under: "\(section).\($0)") }
    }

    /// Whether a diagnostic names `keyPath` or a key below it.
    func hasError(under keyPath: String) -> Bool {
        diagnostics.items.contains { $0.keyPath == keyPath || $0.keyPath.hasPrefix(keyPath + ".") || $0.keyPath.hasPrefix(keyPath + "[") }
    }

    /// Entries declared with an error reported for them.
    struct BrokenEntries {
        var models: Set<String> = []
        var datasets: Set<String> = []
        var evaluations: Set<String> = []
    }

    /// The keys of a mapping section (`models:`, `datasets:`).
    static func declaredNames(_ cursor: YAMLCursor) -> Set<String> {
        guard case let .mapping(mapping) = cursor.node else { return [] }
        return Set(mapping.keys.compactMap(\.string))
    }

    /// The `id`, `dataset` and models (`model`, `reference`) of each entry of the `evaluations:`
    /// list, in order.
    static func declaredEvaluations(_ cursor: YAMLCursor) -> [(id: String?, dataset: String?, models: Set<String>)] {
        guard case let .sequence(items) = cursor.node else { return [] }
        return items.map { item in
            guard case let .mapping(mapping) = item else { return (nil, nil, []) }
            return (mapping["id"]?.string, mapping["dataset"]?.string, Set(["model", "reference"].compactMap { mapping[$0]?.string }))
        }
    }

    // MARK: Strings and paths

    /// A string with `${VAR}` and `${VAR:-default}` expanded.
    func expand(_ cursor: YAMLCursor) -> String? {
        guard let raw = cursor.string() else { return nil }
        var result = ""
        var rest = Substring(raw)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                cursor.error("unterminated '${' in '\(raw)'", hint: "write ${NAME} or ${NAME:-default}")
                return nil
            }
            let body = rest[start.upperBound..<end]
            let parts = body.components(separatedBy: ":-")
            let name = parts[0]
            if let value = environment[name], !(value.isEmpty && parts.count > 1) {
                result += value
            } else if parts.count > 1 {
                result += parts.dropFirst().joined(separator: ":-")
            } else {
                cursor.error("environment variable '\(name)' is not set", hint: "export \(name)=… or write ${\(name):-default}")
                return nil
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// A path relative to the suite's directory (after expansion).
    func path(_ cursor: YAMLCursor) -> URL? {
        guard let text = expand(cursor) else { return nil }
        if text.hasPrefix("/") { return URL(fileURLWithPath: text).standardizedFileURL }
        if text.hasPrefix("~/"), let home = environment["HOME"] {
            return URL(fileURLWithPath: home + text.dropFirst()).standardizedFileURL
        }
        return URL(fileURLWithPath: text, relativeTo: file.deletingLastPathComponent()).standardizedFileURL
    }

    /// A path that must be an existing regular file.
    func existingFile(_ cursor: YAMLCursor) -> URL? {
        guard let url = path(cursor) else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            cursor.error("file not found: \(url.path)", hint: "paths are relative to the suite file (\(file.deletingLastPathComponent().path))")
            return nil
        }
        guard !isDirectory.boolValue else {
            cursor.error("\(url.path) is a directory, expected a file", hint: "name a file inside it")
            return nil
        }
        guard FileKind(path: url.path) != .device else {
            cursor.error("\(url.path) is a device, not a file", hint: Self.deviceHint)
            return nil
        }
        return url
    }

    /// A device as a dataset or model (/dev/zero) had been hashed forever by `assay run` (found
    /// by probing, 2026-12-07).
    static let deviceHint = "name a file: a device such as /dev/zero is never read to its end"

    /// Suite names and evaluation ids name report folders and files (`<run id>.<id>.<artifact>`):
    /// a 300-character name had passed `validate` and failed `run` at --out ("file name is invalid").
    static let longestName = 100

    // MARK: Sections

    func models(_ cursor: YAMLCursor) -> [Suite.NamedModel] {
        guard let entries = cursor.mapping(allowed: [], what: "models by name") else { return [] }
        var result: [Suite.NamedModel] = []
        for (name, value) in entries {
            guard let fields = value.mapping(allowed: ["path", "endpoint", "model", "api_key_env"], what: "a model") else { continue }
            let keys = Set(fields.map(\.key))
            if keys.contains("path") {
                if keys.contains("endpoint") { value.error("give either 'path' or 'endpoint', not both") }
                if let keyCursor = fields.first(where: { $0.key == "api_key_env" })?.value {
                    keyCursor.error("api_key_env applies to an endpoint, not a file", hint: "remove it, or serve the model and give 'endpoint'")
                }
                guard let pathCursor = fields.first(where: { $0.key == "path" })?.value, let url = path(pathCursor) else { continue }
                if let problem = SuiteLoader.modelPathProblem(url) {
                    pathCursor.error(problem.message, hint: problem.hint)
                    continue
                }
                result.append(.init(name: name, spec: .file(url)))
            } else if keys.contains("endpoint") {
                guard let endpointCursor = fields.first(where: { $0.key == "endpoint" })?.value,
                      let text = expand(endpointCursor) else { continue }
                guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https" else {
                    endpointCursor.error("invalid endpoint URL '\(text)'", hint: "e.g. http://127.0.0.1:8000/v1")
                    continue
                }
                guard let modelCursor = fields.first(where: { $0.key == "model" })?.value else {
                    value.error("missing required key 'model'", hint: "the model name the server knows, e.g. model: Qwen2-7B")
                    continue
                }
                guard let model = expand(modelCursor) else { continue }
                _ = Redaction.url(url)  // registers credentials in the URL: they are masked wherever they appear
                var keyVariable: String?
                if let keyCursor = fields.first(where: { $0.key == "api_key_env" })?.value {
                    guard let variable = apiKeyVariable(keyCursor) else { continue }
                    keyVariable = variable
                }
                result.append(.init(name: name, spec: .endpoint(url, model: model, apiKeyVariable: keyVariable)))
            } else {
                value.error("a model needs 'path' or 'endpoint'", hint: "e.g. { path: models/model.gguf }")
            }
        }
        return result
    }

    /// The name of the environment variable holding an endpoint's API key — a name, never the key.
    /// Its value is registered for masking now; an unset variable is reported by the evaluation
    /// that calls the server, so that `assay merge` and suites that never call it need no key.
    func apiKeyVariable(_ cursor: YAMLCursor) -> String? {
        guard let name = cursor.string() else { return nil }
        // Upper case only: a key pasted here by mistake (most have lower-case letters or dashes)
        // must never be echoed back as "variable … is not set".
        let isName = name.first.map { $0 == "_" || ("A"..."Z").contains($0) } == true
            && name.allSatisfy { $0 == "_" || ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        guard isName else {
            Redaction.register(name)  // most likely the key itself: masked in this error and everywhere else
            cursor.error("api_key_env must name an environment variable in capitals, e.g. VLLM_API_KEY",
                         hint: "write the variable's name, not the key: the key stays in the environment and out of the suite")
            return nil
        }
        if let value = environment[name] { Redaction.register(value) }
        return name
    }

    func datasets(_ cursor: YAMLCursor) -> [String: DatasetSpec] {
        guard let entries = cursor.mapping(allowed: [], what: "datasets by name") else { return [:] }
        var result: [String: DatasetSpec] = [:]
        let kinds = DatasetKind.allCases.map(\.rawValue)
        for (name, value) in entries {
            guard case let .mapping(mapping) = value.node else {
                value.error("expected a dataset (a mapping), found \(value.typeName)")
                continue
            }
            guard let kindNode = mapping["kind"] else {
                value.error("missing required key 'kind'", hint: "kind is one of: \(kinds.joined(separator: ", "))")
                continue
            }
            let kindCursor = value.child(kindNode, key: "kind")
            guard let kindName = kindCursor.string() else { continue }
            guard let kind = DatasetKind(rawValue: kindName) else {
                let suggestion = Suggestions.closest(to: kindName, in: kinds)
                kindCursor.error("unknown dataset kind '\(kindName)'" + (suggestion.map { "; did you mean '\($0)'?" } ?? ""),
                                 hint: "kinds: \(kinds.joined(separator: ", "))")
                continue
            }
            if let spec = dataset(kind, value) { result[name] = spec }
        }
        return result
    }

    func dataset(_ kind: DatasetKind, _ cursor: YAMLCursor) -> DatasetSpec? {
        switch kind {
        case .text:
            guard let fields = cursor.mapping(allowed: ["kind", "path"], what: "a text dataset"),
                  cursor.requireKeys(["path"], in: fields, example: "{ kind: text, path: data/corpus.txt }"),
                  let url = existingFile(fields.first { $0.key == "path" }!.value) else { return nil }
            return .text(path: url)
        case .parallel:
            guard let fields = cursor.mapping(allowed: ["kind", "hypotheses", "references"], what: "a parallel dataset"),
                  cursor.requireKeys(["hypotheses", "references"], in: fields,
                                     example: "{ kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }") else { return nil }
            let hypotheses = existingFile(fields.first { $0.key == "hypotheses" }!.value)
            let referencesCursor = fields.first { $0.key == "references" }!.value
            let referenceCursors = referencesCursor.list(allowScalar: true) ?? []
            if case .sequence = referencesCursor.node, referenceCursors.isEmpty {
                referencesCursor.error("no reference files", hint: "list at least one: references: [ref.txt]")
            }
            let references = referenceCursors.compactMap { existingFile($0) }
            guard let hypotheses, references.count == referenceCursors.count, !references.isEmpty else { return nil }
            return .parallel(hypotheses: hypotheses, references: references)
        case .ratings:
            return ratingsDataset(cursor)
        case .jsonl:
            guard let fields = cursor.mapping(allowed: ["kind", "path", "fields"], what: "a JSONL dataset"),
                  cursor.requireKeys(["path"], in: fields, example: "{ kind: jsonl, path: data/mt.jsonl, fields: { hypothesis: hyp, references: [ref] } }"),
                  let url = existingFile(fields.first { $0.key == "path" }!.value) else { return nil }
            var mapping = JSONLFields()
            if let fieldsCursor = fields.first(where: { $0.key == "fields" })?.value {
                guard let entries = fieldsCursor.mapping(allowed: ["hypothesis", "references", "id"], what: "field names") else { return nil }
                for (key, value) in entries {
                    switch key {
                    case "hypothesis": if let s = value.string() { mapping.hypothesis = s }
                    case "references":
                        mapping.references = (value.list(allowScalar: true) ?? []).compactMap { $0.string() }
                        if case .sequence = value.node, mapping.references.isEmpty {
                            value.error("no reference fields", hint: "name at least one: references: [ref]")
                        }
                    case "id": mapping.id = (value.list(allowScalar: true) ?? []).compactMap { $0.string() }
                    default: break
                    }
                }
            }
            return .jsonl(path: url, fields: mapping)
        }
    }

    /// `{ kind: ratings, path, format?, item?, rater?, label?, scale | bins | numeric }`.
    func ratingsDataset(_ cursor: YAMLCursor) -> DatasetSpec? {
        let example = "{ kind: ratings, path: ratings.csv, scale: [1, 2, 3, 4, 5] }"
        guard let fields = cursor.mapping(allowed: ["kind", "path", "format", "item", "rater", "label", "scale", "bins", "numeric"],
                                          what: "a ratings dataset"),
              cursor.requireKeys(["path"], in: fields, example: example),
              let url = existingFile(fields.first { $0.key == "path" }!.value) else { return nil }
        func field(_ key: String) -> YAMLCursor? { fields.first { $0.key == key }?.value }
        var format = RatingsFormat.guess(url.path)
        if let c = field("format"), let name = c.string() {
            format = RatingsFormat(rawValue: name)
            if format == nil {
                let names = RatingsFormat.allCases.map(\.rawValue)
                c.error("unknown ratings format '\(name)'" + (Suggestions.closest(to: name, in: names).map { "; did you mean '\($0)'?" } ?? ""),
                        hint: "formats: \(names.joined(separator: ", "))")
                return nil
            }
        }
        guard let format else {
            cursor.error("cannot tell the ratings format from the file name", hint: "add format: csv, tsv, jsonl or label-studio")
            return nil
        }
        var columns = RatingsColumns()
        if let c = field("item") { columns.item = (c.list(allowScalar: true) ?? []).compactMap { $0.string() } }
        if let c = field("rater"), let v = c.string() { columns.rater = v }
        if let c = field("label"), let v = c.string() { columns.label = v }
        let scaleCursors = ["scale", "bins", "numeric"].compactMap { key in field(key).map { (key, $0) } }
        guard scaleCursors.count == 1, let (key, scaleCursor) = scaleCursors.first else {
            cursor.error(scaleCursors.isEmpty ? "a ratings dataset needs a declared scale" : "give only one of scale, bins and numeric",
                         hint: "scale: [bad, ok, good] (ordered labels), bins: [0, 5, 10] (numeric scores) or numeric: true")
            return nil
        }
        do {
            switch key {
            case "scale":
                let labels = (scaleCursor.list() ?? []).compactMap { c -> String? in
                    guard case let .scalar(s) = c.node else { c.error("expected a label"); return nil }
                    return s.string
                }
                return .ratings(path: url, format: format, columns: columns,
                                scale: try RatingScale.parse(scale: labels.joined(separator: ","), bins: nil, numeric: false))
            case "bins":
                let edges = (scaleCursor.list() ?? []).compactMap { $0.double() }
                return .ratings(path: url, format: format, columns: columns,
                                scale: try RatingScale.parse(scale: nil, bins: edges.map { String($0) }.joined(separator: ","), numeric: false))
            default:
                guard scaleCursor.bool() == true else { scaleCursor.error("numeric: true or leave it out"); return nil }
                return .ratings(path: url, format: format, columns: columns, scale: .numeric(bins: nil))
            }
        } catch {
            scaleCursor.error(error.localizedDescription)
            return nil
        }
    }
}
