/// One reported number with its uncertainty and direction.
public struct MetricValue: Sendable, Equatable, Codable {
    /// Metric name inside its evaluation (`score`, `bp`); gates address it as `<evaluation>.<name>`.
    public var name: String
    /// The value; `nil` when it is undefined for this input (the report says why in `note`).
    public var value: Double?
    /// Standard error, when known.
    public var stderr: Double?
    /// Lower end of a 95 % interval, when computed.
    public var ciLow: Double?
    /// Upper end of a 95 % interval, when computed.
    public var ciHigh: Double?
    /// Unit for people (`BLEU`, `tokens/s`, `%`), or nil.
    public var unit: String?
    /// Whether a larger value is better.
    public var higherIsBetter: Bool
    /// Why `value` is nil, or another remark.
    public var note: String?

    /// Creates a metric value.
    public init(name: String, value: Double?, stderr: Double? = nil, ciLow: Double? = nil, ciHigh: Double? = nil,
                unit: String? = nil, higherIsBetter: Bool, note: String? = nil) {
        self.name = name
        self.value = value
        self.stderr = stderr
        self.ciLow = ciLow
        self.ciHigh = ciHigh
        self.unit = unit
        self.higherIsBetter = higherIsBetter
        self.note = note
    }
}

/// What an evaluator declares about a metric it produces (for `assay list` and gate validation).
public struct MetricSpec: Sendable, Equatable {
    /// Metric name.
    public var name: String
    /// Whether a larger value is better.
    public var higherIsBetter: Bool
    /// Unit, or nil.
    public var unit: String?
    /// One line for `assay list`.
    public var summary: String
    /// Gates judge this metric on its 95 % interval rather than its value, so that measurement
    /// noise alone does not fail a build (speed metrics).
    public var judgedOnInterval: Bool

    /// The direction is an option of the evaluation (`paired-delta`'s `higher_is_better`, read
    /// by gates from the evaluation's options), so a result may report either; `higherIsBetter`
    /// is then only the default.
    public var directionFromOptions: Bool

    /// Creates a metric description.
    public init(_ name: String, higherIsBetter: Bool, unit: String? = nil, judgedOnInterval: Bool = false, directionFromOptions: Bool = false,
                summary: String) {
        self.name = name
        self.higherIsBetter = higherIsBetter
        self.directionFromOptions = directionFromOptions
        self.judgedOnInterval = judgedOnInterval
        self.unit = unit
        self.summary = summary
    }
}
