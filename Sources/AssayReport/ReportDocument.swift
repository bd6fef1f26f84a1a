import AssayCore
import AssayEvaluators
import AssayMetrics
import AssaySuite
import Foundation

/// The JSON report, schema `assay.report/v1` (docs/report-schema.md, docs/report.schema.json).
public struct ReportDocument: Codable, Sendable {
    public var schema: String = "assay.report/v1"
    public var suite: String
    public var suite_file: String
    public var suite_sha256: String
    public var run_id: String
    public var started: String
    public var finished: String
    public var host: String
    public var git_commit: String?
    public var assay_version: String
    public var models: [ModelInfo]
    public var evaluations: [Evaluation]
    public var gates: [Gate]
    public var baseline_run_id: String?
    public var verdict: String

    /// One evaluation in the report.
    public struct Evaluation: Codable, Sendable {
        public var id: String
        public var evaluator: String
        public var status: String
        public var signature: String
        public var options: [String: JSONValue]
        public var metrics: [Metric]
        /// What went wrong, as one line with the hint (`<where>: <what> (hint: …)`), when the
        /// evaluation failed or was interrupted.
        public var error: String?
        /// The same in its parts: `{message, location, hint}`.
        public var error_detail: Diagnostic?
        public var items: Int
        public var items_file: String?
        public var artifacts: [String]?
        public var seconds: Double
        /// The run whose result `assay run --reuse` took (the numbers are that run's; `seconds`
        /// is the time to take them).
        public var reused_from: String?
    }

    /// One metric value.
    public struct Metric: Codable, Sendable {
        public var name: String
        public var value: Double?
        public var stderr: Double?
        public var ci_low: Double?
        public var ci_high: Double?
        public var unit: String?
        public var higher_is_better: Bool
        public var note: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(value, forKey: .value)
            try c.encode(stderr, forKey: .stderr)
            try c.encode(ci_low, forKey: .ci_low)
            try c.encode(ci_high, forKey: .ci_high)
            try c.encode(unit, forKey: .unit)
            try c.encode(higher_is_better, forKey: .higher_is_better)
            try c.encodeIfPresent(note, forKey: .note)
        }
    }

    /// One gate rule result.
    public struct Gate: Codable, Sendable {
        public var metric: String
        public var rule: String
        public var threshold: Double
        public var value: Double?
        public var baseline: Double?
        public var delta: Double?
        public var passed: Bool?
        public var status: String
        public var message: String

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(metric, forKey: .metric)
            try c.encode(rule, forKey: .rule)
            try c.encode(threshold, forKey: .threshold)
            try c.encode(value, forKey: .value)
            try c.encode(baseline, forKey: .baseline)
            try c.encode(delta, forKey: .delta)
            try c.encode(passed, forKey: .passed)
            try c.encode(status, forKey: .status)
            try c.encode(message, forKey: .message)
        }
    }

    /// The report of `outcome`; `itemsFile` names the per-item JSONL beside the report.
    public init(_ outcome: RunOutcome, itemsFile: String?) {
        suite = outcome.suite
        suite_file = outcome.suiteFile
        suite_sha256 = outcome.suiteHash
        run_id = outcome.runID
        started = Self.timestamp(outcome.started)
        finished = Self.timestamp(outcome.finished)
        host = outcome.host
        git_commit = outcome.gitCommit
        assay_version = AssayVersion.current
        models = outcome.models
        evaluations = outcome.evaluations.map { e in
            Evaluation(
                id: e.id, evaluator: e.evaluator, status: e.status.rawValue, signature: e.signature,
                options: e.options.mapValues(\.json),
                metrics: e.metrics.map {
                    Metric(name: $0.name, value: Self.finite($0.value), stderr: Self.finite($0.stderr), ci_low: Self.finite($0.ciLow),
                           ci_high: Self.finite($0.ciHigh), unit: $0.unit, higher_is_better: $0.higherIsBetter, note: $0.note)
                },
                error: e.error.map { ($0.errorDescription ?? $0.message) + ($0.hint.map { " (hint: \($0))" } ?? "") },
                error_detail: e.error, items: e.items.count, items_file: e.items.isEmpty ? nil : itemsFile,
                artifacts: e.artifacts.isEmpty ? nil : e.artifacts.map { "\(outcome.runID).\(ReportWriter.artifactSuffix(e, $0))" },
                seconds: e.seconds, reused_from: e.reusedFrom)
        }
        gates = outcome.gates.map {
            Gate(metric: $0.metric, rule: $0.rule, threshold: $0.threshold, value: $0.value, baseline: $0.baseline,
                 delta: $0.delta, passed: $0.passed, status: $0.status.rawValue, message: $0.message)
        }
        baseline_run_id = outcome.baselineRunID
        verdict = outcome.verdict.rawValue
    }

    static func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }

    /// ISO 8601 UTC with milliseconds.
    public static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Pretty-printed JSON with sorted keys.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}

