import AssayCore
import AssayEvaluators
import AssayMetrics
import Foundation

/// Runs a suite's evaluations one after another and judges its gates.
///
/// An evaluation that throws is recorded as `error` with its message; the others still run.
/// When the surrounding task is cancelled (Ctrl-C), the running evaluation stops at its next
/// cancellation check, the rest are marked `interrupted`, and so is the run.
public struct SuiteRunner: Sendable {
    /// Where evaluators report progress.
    public var progress: any ProgressReporter
    /// Where evaluations keep per-item results as they finish (the results store), if anywhere.
    public var itemCache: (any ItemCache)?
    /// Whether evaluations take the results kept by an earlier, killed or interrupted run.
    public var resume: Bool
    /// Where a whole run keeps each successful evaluation's result (the results store), if anywhere.
    public var resultCache: (any ResultCache)?
    /// Whether a whole run takes an evaluation's kept result when nothing it depends on changed
    /// (``reuseKey(_:of:models:earlier:)``) instead of evaluating it again.
    public var reuse: Bool
    /// Where BERTScore keeps reference embeddings between runs (the results store), if anywhere.
    public var embeddingCache: (any BERTScore.EmbeddingCache)?

    /// Creates a runner.
    public init(progress: any ProgressReporter = SilentProgress(), itemCache: (any ItemCache)? = nil, resume: Bool = false,
                resultCache: (any ResultCache)? = nil, reuse: Bool = false, embeddingCache: (any BERTScore.EmbeddingCache)? = nil) {
        self.progress = progress
        self.itemCache = itemCache
        self.resume = resume
        self.resultCache = resultCache
        self.reuse = reuse
        self.embeddingCache = embeddingCache
    }

    /// Identity of a run, supplied by the caller.
    public struct RunIdentity: Sendable {
        /// Run id.
        public var runID: String
        /// Host name.
        public var host: String
        /// Git commit, if known.
        public var gitCommit: String?

        /// Creates a run identity.
        public init(runID: String, host: String, gitCommit: String?) {
            self.runID = runID
            self.host = host
            self.gitCommit = gitCommit
        }

        /// A new sortable run id: UTC time and 6 random hex digits.
        public static func newRunID(now: Date = Date()) -> String {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            return formatter.string(from: now) + "-" + String(format: "%06x", UInt32.random(in: 0...0xFFFFFF))
        }
    }

    /// Runs `suite`.
    /// - Parameters:
    ///   - baseline: values for `max_regression` gates.
    ///   - models: model infos for the report (see ``ModelInspector``).
    public func run(_ suite: Suite, identity: RunIdentity, models: [ModelInfo], baseline: Baseline?) async -> RunOutcome {
        let started = Date()
        let hashes = ContentHashes()
        var outcomes: [EvaluationOutcome] = []
        var finished: [String: EvaluationResult] = [:]
        var interrupted = false
        for (index, evaluation) in suite.evaluations.enumerated() {
            let keep = resultCache.flatMap { cache in reuseKey(evaluation, of: suite, models: models, earlier: finished, hashes: hashes).map { (cache, $0) } }
            let (outcome, result) = await evaluate(evaluation, of: suite, index: index, earlier: finished, shard: nil,
                                                   keep: keep.map { ($0.0, $0.1, identity.runID) }, interrupted: &interrupted)
            if let result { finished[evaluation.id] = result }
            outcomes.append(outcome)
        }
        let gates = GateJudge.judge(suite.gates, evaluations: outcomes, baseline: baseline)
        return RunOutcome(
            runID: identity.runID, suite: suite.name, suiteFile: suite.file.path, suiteHash: suite.contentHash,
            started: started, finished: Date(), host: identity.host, gitCommit: identity.gitCommit, models: models,
            evaluations: outcomes, gates: gates, baselineRunID: baseline?.runID,
            verdict: GateJudge.verdict(evaluations: outcomes, gates: gates, interrupted: interrupted))
    }

    /// Runs one shard of `suite` (`assay run --shard`): ``ShardMode/items`` evaluations on the
    /// shard's block of their items, ``ShardMode/firstShard`` ones whole in shard 1; those that
    /// run at merge time are listed without running. Gates are judged by ``merge(_:shards:identity:models:baseline:)``.
    public func runShard(_ suite: Suite, shard: Shard, identity: RunIdentity, models: [ModelInfo]) async -> ShardReport {
        let started = Date()
        var evaluations: [ShardReport.Evaluation] = []
        var finished: [String: EvaluationResult] = [:]
        var interrupted = false
        for (index, evaluation) in suite.evaluations.enumerated() {
            let mode = evaluation.evaluator.sharding
            guard mode == .items || (mode == .firstShard && shard.index == 1) else {
                evaluations.append(ShardReport.Evaluation(id: evaluation.id, evaluator: evaluation.evaluator.id, mode: mode))
                continue
            }
            let total = ItemTotal()
            let (outcome, result) = await evaluate(evaluation, of: suite, index: index, earlier: finished,
                                                   shard: mode == .items ? shard : nil, total: total, interrupted: &interrupted)
            if let result { finished[evaluation.id] = result }
            var entry = ShardReport.Evaluation(outcome, mode: mode)
            if mode == .items {
                entry.itemsTotal = total.value
                entry.datasetSHA256 = evaluation.dataset.flatMap { suite.datasets[$0] }.flatMap(ShardReport.contentHash)
            }
            evaluations.append(entry)
        }
        return ShardReport(suite: suite.name, suiteFile: suite.file.path, suiteHash: suite.contentHash, shard: shard,
                           runID: identity.runID, host: identity.host, gitCommit: identity.gitCommit, started: started,
                           finished: Date(), models: models, evaluations: evaluations)
    }

    /// Puts the shards of one run back together (`assay merge`): each ``ShardMode/items``
    /// evaluation's metrics from every shard's rows in shard order (exactly as an unsharded run
    /// computes them), ``ShardMode/firstShard`` results from shard 1, and ``ShardMode/atMerge``
    /// evaluations run here on the merged results; then the gates.
    /// - Throws: a ``Diagnostic`` from ``ShardReport/check(_:against:)`` when the shards do not
    ///   make one whole run of `suite`.
    public func merge(_ suite: Suite, shards: [ShardReport], identity: RunIdentity, models: [ModelInfo],
                      baseline: Baseline?) async throws -> RunOutcome {
        let ordered = try ShardReport.check(shards, against: suite)
        var outcomes: [EvaluationOutcome] = []
        var finished: [String: EvaluationResult] = [:]
        var interrupted = false
        for (index, evaluation) in suite.evaluations.enumerated() {
            let parts = ordered.map { $0.evaluations[index] }
            var outcome = EvaluationOutcome(id: evaluation.id, evaluator: evaluation.evaluator.id, status: .ok, signature: "",
                                            metrics: [], items: [], error: nil, options: evaluation.options.values, seconds: 0)
            switch evaluation.evaluator.sharding {
            case .atMerge:
                let (merged, result) = await evaluate(evaluation, of: suite, index: index, earlier: finished, shard: nil, interrupted: &interrupted)
                if let result { finished[evaluation.id] = result }
                outcomes.append(merged)
                continue
            case .firstShard:
                let first = parts[0]
                outcome.status = first.status ?? .error
                outcome.error = first.error
                outcome.seconds = first.seconds
                var result = EvaluationResult(metrics: first.metrics, items: first.items, signature: first.signature, artifacts: first.artifacts)
                result.itemsInReport = first.itemsInReport
                do {
                    // Checked as if it ran here: declared metrics only, no non-finite number.
                    try Self.record(result, in: &outcome, of: evaluation.evaluator)
                } catch {
                    outcome.status = .error
                    outcome.error = error.diagnostic
                }
            case .items:
                outcome.seconds = max(0, parts.reduce(0) { $0 + $1.seconds })  // a stepped-back clock may give a shard a little below 0
                if let (shard, failed) = zip(ordered, parts).first(where: { $0.1.status != .ok }) {
                    outcome.status = .error
                    let cause = failed.error ?? Diagnostic("failed")
                    outcome.error = Diagnostic("in shard \(shard.shard): \(cause.errorDescription ?? "failed")", hint: cause.hint)
                    break
                }
                do {
                    let evaluator = try evaluation.evaluator.init(options: evaluation.options)
                    let context = self.context(for: evaluation, of: suite, earlier: finished, shard: nil)
                    let rows = parts.flatMap(\.items)
                    try evaluator.checkShardRows(rows, in: context)
                    var result = try evaluator.merge(items: rows, signature: parts[0].signature, in: context)
                    // What a shard noted (requests repeated, items resumed) stays with the numbers.
                    for (shard, part) in zip(ordered, parts) { for note in part.notes { result.addNote("shard \(shard.shard): \(note)") } }
                    try Self.record(result, in: &outcome, of: evaluation.evaluator)
                } catch {
                    outcome.status = .error
                    outcome.error = error.diagnostic
                }
            }
            if outcome.status == .ok {
                var result = EvaluationResult(metrics: outcome.metrics, items: outcome.items, signature: outcome.signature, artifacts: outcome.artifacts)
                result.itemsInReport = outcome.itemsInReport
                finished[evaluation.id] = result
            }
            outcomes.append(outcome)
        }
        let gates = GateJudge.judge(suite.gates, evaluations: outcomes, baseline: baseline)
        return RunOutcome(
            runID: identity.runID, suite: suite.name, suiteFile: suite.file.path, suiteHash: suite.contentHash,
            started: ordered.map(\.started).min() ?? Date(), finished: Date(), host: identity.host, gitCommit: identity.gitCommit,
            models: models, evaluations: outcomes, gates: gates, baselineRunID: baseline?.runID,
            verdict: GateJudge.verdict(evaluations: outcomes, gates: gates, interrupted: interrupted))
    }

    private func context(for evaluation: EvaluationSpec, of suite: Suite, earlier: [String: EvaluationResult], shard: Shard?) -> EvaluationContext {
        var context = EvaluationContext(
            evaluationID: evaluation.id, dataset: evaluation.dataset.flatMap { suite.datasets[$0] },
            model: evaluation.model.flatMap { suite.model($0) }, reference: evaluation.reference.flatMap { suite.model($0) },
            progress: progress, earlierResults: earlier)
        context.shard = shard
        context.embeddingCache = embeddingCache
        context.itemCache = itemCache.map {
            EvaluationItemCache(cache: $0, resume: resume, evaluator: evaluation.evaluator.id,
                                options: evaluation.options.values.filter { !evaluation.evaluator.optionsRowsIgnore.contains($0.key) }
                                    .mapValues(\.description))
        }
        return context
    }

    /// Runs one evaluation (or marks it interrupted when the run already was); returns its
    /// outcome and, when it succeeded, its result for the evaluations after it. With `keep`, a
    /// successful result is kept in the cache under the key for run id, and with ``reuse`` a
    /// result kept there earlier is taken instead of evaluating.
    private func evaluate(_ evaluation: EvaluationSpec, of suite: Suite, index: Int, earlier: [String: EvaluationResult], shard: Shard?,
                          total: ItemTotal? = nil, keep: (any ResultCache, String, String)? = nil,
                          interrupted: inout Bool) async -> (EvaluationOutcome, EvaluationResult?) {
        let begin = Date()
        var outcome = EvaluationOutcome(id: evaluation.id, evaluator: evaluation.evaluator.id, status: .ok, signature: "",
                                        metrics: [], items: [], error: nil, options: evaluation.options.values, seconds: 0)
        if interrupted || Task.isCancelled {
            interrupted = true
            outcome.status = .interrupted
            outcome.error = Diagnostic("not run: the run was interrupted")
            return (outcome, nil)
        }
        progress.evaluationStarted(evaluation.id, evaluator: evaluation.evaluator.id, index: index + 1, count: suite.evaluations.count)
        var finished: EvaluationResult?
        var reusedFrom: String?
        do {
            let evaluator = try evaluation.evaluator.init(options: evaluation.options)
            if reuse, let (cache, key, _) = keep, let (kept, runID) = cache.result(forKey: key) {
                var result = kept
                result.addNote("reused: the result of run \(runID), whose evaluator, options, models, data and assay build were the same (--reuse)")
                try Self.record(result, in: &outcome, of: evaluation.evaluator)
                outcome.reusedFrom = runID
                if outcome.status == .ok { finished = result }
                reusedFrom = runID
            } else {
                var context = context(for: evaluation, of: suite, earlier: earlier, shard: shard)
                context.itemTotal = total
                var result = try await evaluator.evaluate(in: context)
                if let reused = context.itemCache?.reusedCount, reused > 0 {
                    result.addRunNote("resumed: \(reused) item\(reused == 1 ? "" : "s") taken from the store (--resume)")
                }
                try Self.record(result, in: &outcome, of: evaluation.evaluator)
                if outcome.status == .ok {
                    finished = result
                    if !Task.isCancelled, let (cache, key, runID) = keep { cache.keep(result.withoutRunNotes(), forKey: key, runID: runID) }
                }
            }
            if Task.isCancelled { interrupted = true }
        } catch EvaluatorError.cancelled {
            interrupted = true
            outcome.status = .interrupted
            outcome.error = Diagnostic("interrupted")
        } catch {
            if Task.isCancelled {
                interrupted = true
                outcome.status = .interrupted
                outcome.error = Diagnostic("interrupted")
            } else {
                outcome.status = .error
                outcome.error = error.diagnostic
            }
        }
        outcome.seconds = max(0, Date().timeIntervalSince(begin))  // the wall clock may step back
        progress.evaluationFinished(evaluation.id, status: reusedFrom.map { "reused from run \($0)" } ?? outcome.status.rawValue, seconds: outcome.seconds)
        return (outcome, finished)
    }

    /// Puts `result` in `outcome` once its metrics are declared ones; a non-finite number makes
    /// the outcome an error (``finite(_:of:)``).
    /// - Throws: what ``checkDeclared(_:of:)`` throws.
    static func record(_ result: EvaluationResult, in outcome: inout EvaluationOutcome, of type: any Evaluator.Type) throws {
        try checkDeclared(result, of: type)
        outcome.signature = result.signature
        let (metrics, nonFinite) = finite(result.metrics, of: type)
        outcome.metrics = metrics
        if let nonFinite {
            outcome.status = .error
            outcome.error = nonFinite
        }
        outcome.items = result.items
        outcome.artifacts = result.artifacts
        outcome.itemsInReport = result.itemsInReport
        outcome.notes = result.notes
    }

    /// A NaN or infinite number never passes: each non-finite value, interval bound or standard
    /// error becomes null with a note saying what it was, and the evaluation gets an error naming
    /// the metrics (gates on them then see no value; the run exits 2, never 0).
    public static func finite(_ metrics: [MetricValue], of type: any Evaluator.Type) -> ([MetricValue], Diagnostic?) {
        var problems: [String] = []
        let cleaned = metrics.map { metric -> MetricValue in
            var m = metric
            var found: [String] = []
            func check(_ value: inout Double?, _ field: String) {
                if let v = value, !v.isFinite {
                    found.append("\(field) \(v)")
                    value = nil
                }
            }
            check(&m.value, "value")
            check(&m.stderr, "stderr")
            check(&m.ciLow, "ci_low")
            check(&m.ciHigh, "ci_high")
            if !found.isEmpty {
                m.note = ([m.note].compactMap { $0 } + ["not finite: " + found.joined(separator: ", ")]).joined(separator: "; ")
                problems.append("\(metric.name) (\(found.joined(separator: ", ")))")
            }
            return m
        }
        guard !problems.isEmpty else { return (metrics, nil) }
        return (cleaned, Diagnostic("evaluator '\(type.id)' produced non-finite numbers: \(problems.joined(separator: "; "))",
                                    hint: "a NaN or infinity is never a result: check the model (its metadata and weights) and the data for values that overflow or divide by zero"))
    }

    /// Every metric a result carries must be one its evaluator declares (`MetricSpec`), once: gates,
    /// `assay list` and the store rely on the declarations.
    /// - Throws: a ``Diagnostic`` naming the undeclared or repeated metric.
    public static func checkDeclared(_ result: EvaluationResult, of type: any Evaluator.Type) throws {
        let declared = Dictionary(type.metrics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var seen = Set<String>()
        for metric in result.metrics {
            guard let spec = declared[metric.name] else {
                throw Diagnostic("evaluator '\(type.id)' produced metric '\(metric.name)', which it does not declare",
                                 hint: "declare it in \(type).metrics (a bug in the evaluator)")
            }
            guard metric.higherIsBetter == spec.higherIsBetter || spec.directionFromOptions else {
                throw Diagnostic("evaluator '\(type.id)' reports '\(metric.name)' with the opposite direction to its declaration",
                                 hint: "a bug in the evaluator: gates and comparisons read the declared direction")
            }
            guard seen.insert(metric.name).inserted else {
                throw Diagnostic("evaluator '\(type.id)' produced metric '\(metric.name)' twice", hint: "a bug in the evaluator")
            }
        }
    }
}
