import AssayCore
import AssayEvaluators
import Foundation

/// What one shard of a run wrote (`assay run --shard I/N` → `<out>/<suite>/shard-I-of-N.json`):
/// the suite it ran, the models, and per evaluation its rows — the sufficient statistics
/// `assay merge` computes the run's metrics from.
public struct ShardReport: Codable, Sendable, Equatable {
    /// The file format's name and version.
    public static let currentFormat = "assay-shard/1"

    public var format = ShardReport.currentFormat
    public var suite: String
    public var suiteFile: String
    public var suiteHash: String
    public var shard: Shard
    public var runID: String
    public var host: String
    public var gitCommit: String?
    public var started: Date
    public var finished: Date
    public var models: [ModelInfo]
    public var evaluations: [Evaluation]

    enum CodingKeys: String, CodingKey {
        case format, suite, shard, host, models, evaluations, started, finished
        case suiteFile = "suite_file", suiteHash = "suite_hash", runID = "run_id", gitCommit = "git_commit"
    }

    /// Creates a shard report.
    public init(suite: String, suiteFile: String, suiteHash: String, shard: Shard, runID: String, host: String, gitCommit: String?,
                started: Date, finished: Date, models: [ModelInfo], evaluations: [Evaluation]) {
        self.suite = suite
        self.suiteFile = suiteFile
        self.suiteHash = suiteHash
        self.shard = shard
        self.runID = runID
        self.host = host
        self.gitCommit = gitCommit
        self.started = started
        self.finished = finished
        self.models = models
        self.evaluations = evaluations
    }

    /// One evaluation in a shard.
    public struct Evaluation: Codable, Sendable, Equatable {
        public var id: String
        public var evaluator: String
        public var mode: ShardMode
        /// nil when it did not run in this shard (it runs in shard 1, or at merge time).
        public var status: EvaluationOutcome.Status?
        public var signature = ""
        /// Metrics of a ``ShardMode/firstShard`` evaluation (an items evaluation's come from the merge).
        public var metrics: [MetricValue] = []
        public var items: [ItemRow] = []
        public var artifacts: [Artifact] = []
        public var itemsInReport = false
        public var error: Diagnostic?
        public var seconds = 0.0
        /// Notes of the shard's result (requests repeated, items resumed).
        public var notes: [String] = []
        /// ``ShardMode/items``: how many items the dataset held in this shard's eyes, and the
        /// SHA-256 of its files — the merge requires every shard to have seen the same.
        public var itemsTotal: Int?
        public var datasetSHA256: String?

        enum CodingKeys: String, CodingKey {
            case id, evaluator, mode, status, signature, metrics, items, artifacts, error, seconds, notes
            case itemsInReport = "items_in_report", itemsTotal = "items_total", datasetSHA256 = "dataset_sha256"
        }

        /// An evaluation this shard does not run.
        public init(id: String, evaluator: String, mode: ShardMode) {
            self.id = id
            self.evaluator = evaluator
            self.mode = mode
        }

        /// An evaluation this shard ran.
        public init(_ outcome: EvaluationOutcome, mode: ShardMode) {
            self.init(id: outcome.id, evaluator: outcome.evaluator, mode: mode)
            status = outcome.status
            signature = outcome.signature
            metrics = outcome.metrics
            items = outcome.items
            artifacts = outcome.artifacts
            itemsInReport = outcome.itemsInReport
            error = outcome.error
            seconds = outcome.seconds
            notes = outcome.notes
        }
    }

    /// The SHA-256 of a dataset's files, in order (what the shards must agree on).
    public static func contentHash(of dataset: DatasetSpec) -> String? {
        var hashes: [String] = []
        for file in dataset.files {
            guard let hash = try? SHA256.hex(fileAt: file) else { return nil }
            hashes.append(hash)
        }
        return SHA256.hex(Data(hashes.joined(separator: ",").utf8))
    }

    /// This report with secrets masked where they can be — model paths (endpoint URLs), errors and
    /// notes — and the items exactly as they are but for a registered secret's value (an API key
    /// a server echoed into a text): the merge computes from their texts, which a mask over the
    /// whole file would change ("bearer bonds", `?code=…` in a sentence).
    public func redacted() -> ShardReport {
        var copy = self
        copy.models = models.map { model in
            var m = model
            m.path = Redaction.scrub(m.path)
            return m
        }
        copy.evaluations = evaluations.map { evaluation in
            var e = evaluation
            e.error = e.error.map { Diagnostic(Redaction.scrub($0.message), location: $0.location.map(Redaction.scrub), hint: $0.hint.map(Redaction.scrub)) }
            e.notes = e.notes.map(Redaction.scrub)
            e.signature = Redaction.scrub(e.signature)
            e.items = e.items.map { $0.maskingSecrets() }
            e.metrics = e.metrics.map { metric in
                var m = metric
                m.note = m.note.map(Redaction.scrub)
                return m
            }
            return e
        }
        return copy
    }

    /// The file name of shard `shard`: `shard-I-of-N.json`.
    public static func fileName(_ shard: Shard) -> String { "shard-\(shard.index)-of-\(shard.count).json" }

    /// Reads a shard file.
    /// - Throws: a ``Diagnostic`` naming the file when it cannot be read or is not a shard report.
    public static func load(_ url: URL) throws -> ShardReport {
        let data: Data
        var directory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &directory), directory.boolValue {
            throw Diagnostic("\(url.path): is a directory, not a shard file", hint: "give the shard files themselves: assay merge \(url.path)/shard-*-of-N.json")
        }
        do { data = try Data(contentsOf: url) } catch {
            throw Diagnostic("\(url.path): cannot be read (\(error.localizedDescription))", hint: "give the shard files `assay run --shard` wrote")
        }
        let report: ShardReport
        do { report = try JSONDecoder().decode(ShardReport.self, from: data) } catch {
            let json = (try? JSONSerialization.jsonObject(with: data)) != nil
            throw Diagnostic("\(url.path): not a shard report (\(json ? Self.decodingProblem(error) : "not JSON"))",
                             hint: "give the shard-I-of-N.json files `assay run --shard` wrote, unedited")
        }
        guard report.format == currentFormat else {
            throw Diagnostic("\(url.path): format '\(report.format)', this assay reads '\(currentFormat)'", hint: "run the shards and the merge with the same version of assay")
        }
        // A Shard decoded from JSON bypasses its initializer's checks.
        _ = try Shard(index: report.shard.index, count: report.shard.count)
        // Chart names become file names beside the report.
        for evaluation in report.evaluations {
            for artifact in evaluation.artifacts where artifact.name.isEmpty || artifact.name.hasPrefix(".")
                || !artifact.name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0)) }) {
                throw Diagnostic("\(url.path): evaluation '\(evaluation.id)' names a chart '\(artifact.name)', which is not a plain file name",
                                 hint: "the file was edited or damaged; run that shard again")
            }
        }
        try report.checkRunFields(file: url.path)
        return report
    }

    /// The run fields a merge reads besides the rows — the run id it prints, the times and
    /// durations it reports — within what a run can write: a sum of edited durations had reached
    /// the report writer as infinity ("EncodingError.invalidValue"), a start in the year 5,828,963
    /// had been reported, and a run id is printed as it is. Wall-clock times may step back (NTP, a
    /// resumed VM, a node that booted at 1970), so a finish before the start or a duration a
    /// little below 0 is a run's and passes.
    func checkRunFields(file: String) throws {
        let hint = "the file was edited or damaged; run that shard again"
        guard runID.range(of: #"\A[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}\z"#, options: .regularExpression) != nil else {
            throw Diagnostic("\(file): run_id \(String(reflecting: String(runID.prefix(40)))) is not a run id assay writes (such as 20261207T115018Z-0b55de)", hint: hint)
        }
        let earliest = Date(timeIntervalSince1970: 0), latest = Date().addingTimeInterval(10 * 366 * 86_400)
        for (name, date) in [("started", started), ("finished", finished)] where !(earliest...latest).contains(date) {
            throw Diagnostic("\(file): '\(name)' is \(date.timeIntervalSinceReferenceDate) s from 2001-01-01, not a time between 1970 and ten years from now",
                             hint: "\(hint) (or set the clock of the machine that ran it)")
        }
        for evaluation in evaluations where !(-86_400...(366 * 86_400)).contains(evaluation.seconds) {
            throw Diagnostic("\(file): evaluation '\(evaluation.id)' took \(evaluation.seconds) seconds, not a duration of a year at most", hint: hint)
        }
    }

    /// Checks that `shards` are every shard of one run of `suite`, each once, with the same
    /// models and the same signature for every split evaluation; returns them in shard order.
    /// - Throws: a ``Diagnostic`` saying which shard differs and how.
    public static func check(_ shards: [ShardReport], against suite: Suite) throws -> [ShardReport] {
        guard let first = shards.first else { throw Diagnostic("no shard files given", hint: "assay merge reports/<suite>/shard-*-of-N.json") }
        let count = first.shard.count
        for s in shards {
            guard s.suiteHash == suite.contentHash else {
                throw Diagnostic("shard \(s.shard) ran suite '\(s.suite)' with hash \(s.suiteHash.prefix(12)), but \(suite.file.path) now has \(suite.contentHash.prefix(12))",
                                 hint: "every shard and the merge must use the same suite file; run the shards again after changing it")
            }
            guard s.shard.count == count else {
                throw Diagnostic("shard \(s.shard) belongs to a run in \(s.shard.count) shards, shard \(first.shard) to one in \(count)",
                                 hint: "merge the shards of one run, all with the same N")
            }
        }
        var byIndex: [Int: ShardReport] = [:]
        for s in shards {
            if let other = byIndex[s.shard.index] {
                throw Diagnostic("shard \(s.shard) is given twice (runs \(other.runID) and \(s.runID))", hint: "give each shard's file once")
            }
            byIndex[s.shard.index] = s
        }
        let missing = (1...count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw Diagnostic("shard\(missing.count == 1 ? "" : "s") \(missing.map(String.init).joined(separator: ", ")) of \(count) missing",
                             hint: "run them (assay run SUITE --shard I/\(count)) and give every shard-I-of-\(count).json")
        }
        let ordered = (1...count).map { byIndex[$0]! }
        let reference = ordered[0]
        let models = Dictionary(reference.models.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for s in ordered.dropFirst() {
            for model in s.models {
                let expected = models[model.name]
                guard let expected, expected.sha256 == model.sha256, expected.sha256 != nil || expected.path == model.path else {
                    throw Diagnostic("model '\(model.name)' differs between shard \(reference.shard) (\(Self.describe(expected))) and shard \(s.shard) (\(Self.describe(model)))",
                                     hint: "every shard must evaluate the same model files (compare their sha256)")
                }
            }
            guard s.models.count == reference.models.count else {
                throw Diagnostic("shard \(s.shard) names \(s.models.count) models, shard \(reference.shard) \(reference.models.count)", hint: "run every shard with the same --model overrides")
            }
        }
        let expected = suite.evaluations.map { "\($0.id):\($0.evaluator.id)" }
        // Which shard holds each item row, per evaluation: an id twice is an edited or damaged file
        // (it had reached the store as SQLite's UNIQUE constraint, hinting at disk space).
        var holder: [String: [String: String]] = [:]
        for s in ordered {
            guard s.evaluations.map({ "\($0.id):\($0.evaluator)" }) == expected else {
                throw Diagnostic("shard \(s.shard) has evaluations \(s.evaluations.map(\.id).joined(separator: ", ")), the suite \(suite.evaluations.map(\.id).joined(separator: ", "))",
                                 hint: "run every shard with the suite the merge reads")
            }
            for (e, spec) in zip(s.evaluations, suite.evaluations) {
                let mode = spec.evaluator.sharding
                guard e.mode == mode else {
                    throw Diagnostic("evaluation '\(e.id)' was split as '\(e.mode.rawValue)' in shard \(s.shard); this assay splits it as '\(mode.rawValue)'",
                                     hint: "run the shards and the merge with the same version of assay")
                }
                let ranHere = mode == .items || (mode == .firstShard && s.shard.index == 1)
                guard ranHere == (e.status != nil) else {
                    throw Diagnostic("evaluation '\(e.id)' \(ranHere ? "did not run" : "ran") in shard \(s.shard)", hint: "the shard file was edited or is damaged; run the shard again")
                }
                if e.status == .interrupted {
                    throw Diagnostic("evaluation '\(e.id)' was interrupted in shard \(s.shard)", hint: "run that shard again (assay run SUITE --shard \(s.shard)) and merge")
                }
                if mode == .items, e.status == .ok {
                    let first = ordered[0].evaluations.first { $0.id == e.id }
                    guard let total = e.itemsTotal, total >= 0 else {
                        throw Diagnostic("evaluation '\(e.id)' in shard \(s.shard) does not say how many items its dataset holds",
                                         hint: "the file was edited or is from another version of assay; run that shard again")
                    }
                    if let first, first.status == .ok, first.itemsTotal != total || first.datasetSHA256 != e.datasetSHA256 {
                        throw Diagnostic("evaluation '\(e.id)' read different data in shard \(ordered[0].shard) (\(first.itemsTotal.map(String.init) ?? "?") items, files \(first.datasetSHA256?.prefix(12) ?? "?")) and in shard \(s.shard) (\(total) items, files \(e.datasetSHA256?.prefix(12) ?? "?"))",
                                         hint: "every shard must read the same dataset files; copy them alike to every node and run the shards again")
                    }
                    let expected = s.shard.range(of: total).count
                    guard e.items.count == expected else {
                        throw Diagnostic("evaluation '\(e.id)' has \(e.items.count) rows in shard \(s.shard), whose block of \(total) items holds \(expected)",
                                         hint: "the file was edited or damaged; run that shard again")
                    }
                    for row in e.items {
                        if let other = holder[e.id]?[row.id] {
                            throw Diagnostic("evaluation '\(e.id)' has item '\(row.id)' in shard \(other) and again in shard \(s.shard)",
                                             hint: "the file was edited or damaged; run that shard again")
                        }
                        holder[e.id, default: [:]][row.id] = "\(s.shard)"
                    }
                }
                if mode == .items, e.status == .ok, let other = ordered.first(where: { $0.evaluations.first { $0.id == e.id }?.status == .ok }),
                   let signature = other.evaluations.first(where: { $0.id == e.id })?.signature, signature != e.signature {
                    throw Diagnostic("evaluation '\(e.id)' has signature \(e.signature) in shard \(s.shard) but \(signature) in shard \(other.shard)",
                                     hint: "the shards measured different things (another tokenizer, model or version of assay); run them alike")
                }
            }
        }
        return ordered
    }

    private static func describe(_ model: ModelInfo?) -> String {
        guard let model else { return "absent" }
        return model.sha256.map { "sha256 \($0.prefix(12))" } ?? model.path
    }

    private static func decodingProblem(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context): return "no '\(path(context.codingPath + [key]))'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "'\(path(context.codingPath))' has the wrong type"
        case let DecodingError.dataCorrupted(context):
            // (JSON that does not parse is named by the caller.) A number no integer holds — a
            // count of 1e20 — had been called "not JSON" (found by probing, 2026-12-07).
            if !context.codingPath.isEmpty { return "'\(path(context.codingPath))' is malformed" }
            return "malformed: \(context.debugDescription.prefix(160))"
        default: return "unreadable"
        }
    }

    /// A decoding path as JSON reads: `evaluations[0].status` (it had read "evaluations.Index 0.status").
    static func path(_ keys: [any CodingKey]) -> String {
        keys.reduce("") { path, key in
            if let index = key.intValue { return "\(path)[\(index)]" }
            return path.isEmpty ? key.stringValue : "\(path).\(key.stringValue)"
        }
    }
}
