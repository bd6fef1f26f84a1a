import AssayEvaluators
import Foundation

/// A validated suite: what to evaluate, on which data and models, and which gates decide.
public struct Suite: Sendable {
    /// The suite file.
    public var file: URL
    /// SHA-256 of the file's bytes (runs of the same suite content share it).
    public var contentHash: String
    /// Suite name (used for report folders and baselines).
    public var name: String
    /// Optional description.
    public var description: String?
    /// Models by name, in file order.
    public var models: [NamedModel]
    /// Datasets by name.
    public var datasets: [String: DatasetSpec]
    /// Evaluations in file order.
    public var evaluations: [EvaluationSpec]
    /// Gates in file order.
    public var gates: [GateSpec]
    /// Things that load but should change (a former evaluator id), for the caller to show.
    public var warnings: [SuiteDiagnostic] = []

    /// A model with its suite name.
    public struct NamedModel: Sendable, Equatable {
        /// Name in the suite.
        public var name: String
        /// Where it is.
        public var spec: ModelSpec
    }

    /// The model called `name`.
    public func model(_ name: String) -> ModelSpec? { models.first { $0.name == name }?.spec }
}

/// One entry of `evaluations:`.
public struct EvaluationSpec: Sendable {
    /// Unique id in the suite; gates address metrics as `<id>.<metric>`.
    public var id: String
    /// The evaluator type.
    public var evaluator: any Evaluator.Type
    /// Validated options with defaults.
    public var options: OptionValues
    /// Options as written in the suite (for reports).
    public var givenOptions: [String: OptionValue]
    /// Dataset name, if any.
    public var dataset: String?
    /// Model name, if any.
    public var model: String?
    /// Reference model name, if any.
    public var reference: String?
}

/// One entry of `gates:`: thresholds on a metric and a limit on its regression from a baseline.
public struct GateSpec: Sendable, Equatable {
    /// `<evaluation id>.<metric name>`.
    public var metric: String
    /// The value must be at least this.
    public var min: Double?
    /// The value must be at most this.
    public var max: Double?
    /// The value may be worse than the baseline's by at most this much (in the metric's units,
    /// "worse" following its direction).
    public var maxRegression: Double?
    /// Whether larger values of the metric are better (from the evaluator's declaration).
    public var higherIsBetter: Bool
    /// Whether the metric is judged on its 95 % interval (the gate's `judge:`, else the evaluator's
    /// declaration): a rule fails only when the whole interval is on the wrong side.
    public var judgedOnInterval: Bool

    /// Creates a gate.
    public init(metric: String, min: Double?, max: Double?, maxRegression: Double?, higherIsBetter: Bool, judgedOnInterval: Bool = false) {
        self.metric = metric
        self.min = min
        self.max = max
        self.maxRegression = maxRegression
        self.higherIsBetter = higherIsBetter
        self.judgedOnInterval = judgedOnInterval
    }

    /// The evaluation id part of ``metric``.
    public var evaluationID: String { String(metric.split(separator: ".", maxSplits: 1).first ?? "") }
    /// The metric name part of ``metric``.
    public var metricName: String {
        let parts = metric.split(separator: ".", maxSplits: 1)
        return parts.count > 1 ? String(parts[1]) : ""
    }
}
