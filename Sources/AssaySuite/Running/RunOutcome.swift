import AssayCore
import AssayEvaluators
import Foundation

/// Everything a finished (or interrupted) run produced; reports and the store are written from it.
public struct RunOutcome: Sendable {
    /// Unique, sortable run id (`20261129T101500Z-3f2a9c`).
    public var runID: String
    /// Suite name.
    public var suite: String
    /// Suite file path.
    public var suiteFile: String
    /// SHA-256 of the suite file.
    public var suiteHash: String
    /// Start time.
    public var started: Date
    /// End time.
    public var finished: Date
    /// Host name.
    public var host: String
    /// Git commit of the working directory, when it is a repository.
    public var gitCommit: String?
    /// Models used, with hashes.
    public var models: [ModelInfo]
    /// One outcome per evaluation, in suite order.
    public var evaluations: [EvaluationOutcome]
    /// One result per gate rule.
    public var gates: [GateResult]
    /// The baseline run gates compared against, if any.
    public var baselineRunID: String?
    /// Overall verdict.
    public var verdict: Verdict

    /// The overall result of a run.
    public enum Verdict: String, Sendable, Codable {
        /// All evaluations ran and every gate passed.
        case pass
        /// A gate failed.
        case fail
        /// An evaluation could not run (its gates could not be judged).
        case error
        /// Stopped by the user before finishing.
        case interrupted

        /// Process exit code for this verdict (DESIGN §5; 130 for Ctrl-C as shells expect).
        public var exitCode: Int32 {
            switch self {
            case .pass: return 0
            case .fail: return 1
            case .error: return 2
            case .interrupted: return 130
            }
        }
    }
}

/// What one evaluation produced.
public struct EvaluationOutcome: Sendable {
    /// Evaluation id.
    public var id: String
    /// Evaluator id.
    public var evaluator: String
    /// `ok`, `error` or `interrupted`.
    public var status: Status
    /// The evaluator's signature (empty when it failed before producing one).
    public var signature: String
    /// Metric values.
    public var metrics: [MetricValue]
    /// Per-item statistics.
    public var items: [ItemRow]
    /// Charts and other files for the report.
    public var artifacts: [Artifact] = []
    /// Whether the Markdown report shows the items as a table.
    public var itemsInReport = false
    /// Notes of a shard's result, which has no metrics to carry them (the merge moves them onto its metrics).
    public var notes: [String] = []
    /// What went wrong, where and how to fix it, when `status` is `error` (or why it did not
    /// finish, when `interrupted`).
    public var error: Diagnostic?
    /// Options after defaults.
    public var options: [String: OptionValue]
    /// Wall time in seconds.
    public var seconds: Double
    /// The run whose kept result `--reuse` took instead of evaluating (nil: evaluated in this run).
    public var reusedFrom: String?

    /// Status of an evaluation.
    public enum Status: String, Sendable, Codable {
        case ok
        case error
        case interrupted
    }
}

/// The result of one gate rule.
public struct GateResult: Sendable, Equatable {
    /// `<evaluation>.<metric>`.
    public var metric: String
    /// `min`, `max` or `max_regression`.
    public var rule: String
    /// The threshold (for `max_regression`, the allowed worsening).
    public var threshold: Double
    /// The measured value, if the metric was produced.
    public var value: Double?
    /// The baseline value (for `max_regression`).
    public var baseline: Double?
    /// value − baseline, when both exist.
    public var delta: Double?
    /// `pass`, `fail`, `skipped` (no baseline) or `error` (metric missing).
    public var status: Status
    /// Why, in one sentence.
    public var message: String

    /// The status of a gate rule.
    public enum Status: String, Sendable, Codable {
        case pass
        case fail
        case skipped
        case error
    }

    /// true, false, or nil when the rule could not be judged.
    public var passed: Bool? {
        switch status {
        case .pass: return true
        case .fail: return false
        case .skipped, .error: return nil
        }
    }
}

/// Metric values of an earlier run that `max_regression` gates compare against.
public struct Baseline: Sendable, Equatable {
    /// The baseline run's id.
    public var runID: String
    /// Values by `<evaluation>.<metric>`.
    public var values: [String: Double]

    /// Creates a baseline.
    public init(runID: String, values: [String: Double]) {
        self.runID = runID
        self.values = values
    }
}
