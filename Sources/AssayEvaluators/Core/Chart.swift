/// What a chart shows, as data: evaluators and commands describe a chart; `AssayReport` draws it
/// (SVG today, the HTML report later), so no module below the report writes markup.
public enum Chart: Sendable, Equatable, Codable {
    /// The distribution of per-token KL divergence on a log scale, with the mean and p99 marked.
    case kldHistogram(title: String, kld: [Float], mean: Double, p99: Double)
    /// Bars with error bars (tokens/s per test with an interval or ± stddev).
    case bars(title: String, unit: String, bars: [ChartBar])
    /// A symmetric matrix of values in [−1, 1] over labels (pairwise kappa); the diagonal is 1.
    case heatmap(title: String, caption: String, labels: [String], cells: [[HeatmapCell]])
    /// The bootstrap replicates of a metric as a histogram, with the estimate and the ends of its
    /// 95 % interval marked (how wide and how lopsided the uncertainty is).
    case distribution(title: String, unit: String, values: [Double], estimate: Double, low: Double, high: Double)
}

/// One bar of ``Chart/bars(title:unit:bars:)``: the value and the ends of its error bar.
public struct ChartBar: Sendable, Equatable, Codable {
    public var label: String
    public var value: Double
    public var low: Double
    public var high: Double

    /// A bar at `value` with an error bar from `low` to `high`.
    public init(label: String, value: Double, low: Double, high: Double) {
        self.label = label
        self.value = value
        self.low = low
        self.high = high
    }
}

/// One cell of ``Chart/heatmap(title:caption:labels:cells:)``.
public enum HeatmapCell: Sendable, Equatable, Codable {
    /// A value, coloured and printed.
    case value(Double)
    /// The pair exists but its value is undefined (printed `n/a`).
    case undefined
    /// The pair shares nothing (left blank).
    case absent
}
