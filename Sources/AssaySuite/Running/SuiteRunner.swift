import AssayCore
import AssayEvaluators
import Foundation

/// Runs a suite's evaluations one after another and judges its gates.
///
/// An evaluation that throws is recorded as `error` with its message; the others still run.
/// When the surrounding task is cancelled (Ctrl-C), the running evaluation stops at its next
/// cancellation check, the rest are marked `interrupted`, and so is the run.
public struct SuiteRunner: Sendable {
    /// Where evaluators report progress.
    public var progress: any ProgressReporter

    /// Creates a runner.
    public init(progress: any ProgressReporter = SilentProgress()) {
        self.progress = progress
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
        var outcomes: [EvaluationOutcome] = []
        var finished: [String: EvaluationResult] = [:]
        var interrupted = false
        for (index, evaluation) in suite.evaluations.enumerated() {
            let begin = Date()
            var outcome = EvaluationOutcome(id: evaluation.id, evaluator: evaluation.evaluator.id, status: .ok, signature: "",
                                            metrics: [], items: [], error: nil, options: evaluation.options.values, seconds: 0)
            if interrupted || Task.isCancelled {
                interrupted = true
                outcome.status = .interrupted
                outcome.error = Diagnostic("not run: the run was interrupted")
                outcomes.append(outcome)
                continue
            }
            progress.evaluationStarted(evaluation.id, evaluator: evaluation.evaluator.id, index: index + 1,
                                       count: suite.evaluations.count)
            let context = EvaluationContext(
                evaluationID: evaluation.id, dataset: evaluation.dataset.flatMap { suite.datasets[$0] },
                model: evaluation.model.flatMap { suite.model($0) }, reference: evaluation.reference.flatMap { suite.model($0) },
                progress: progress, earlierResults: finished)
            do {
                let evaluator = try evaluation.evaluator.init(options: evaluation.options)
                let result = try await evaluator.evaluate(in: context)
                try Self.checkDeclared(result, of: evaluation.evaluator)
                outcome.signature = result.signature
                let (metrics, nonFinite) = Self.finite(result.metrics, of: evaluation.evaluator)
                outcome.metrics = metrics
                if let nonFinite {
                    outcome.status = .error
                    outcome.error = nonFinite
                }
                outcome.items = result.items
                outcome.artifacts = result.artifacts
                outcome.itemsInReport = result.itemsInReport
                if outcome.status == .ok { finished[evaluation.id] = result }
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
            outcome.seconds = Date().timeIntervalSince(begin)
            progress.evaluationFinished(evaluation.id, status: outcome.status.rawValue, seconds: outcome.seconds)
            outcomes.append(outcome)
        }
        let gates = GateJudge.judge(suite.gates, evaluations: outcomes, baseline: baseline)
        return RunOutcome(
            runID: identity.runID, suite: suite.name, suiteFile: suite.file.path, suiteHash: suite.contentHash,
            started: started, finished: Date(), host: identity.host, gitCommit: identity.gitCommit, models: models,
            evaluations: outcomes, gates: gates, baselineRunID: baseline?.runID,
            verdict: GateJudge.verdict(evaluations: outcomes, gates: gates, interrupted: interrupted))
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
