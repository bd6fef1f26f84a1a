import AssayEvaluators

/// Draws a ``Chart`` as an SVG document.
public enum ChartRenderer {
    /// The SVG text of `chart`.
    public static func svg(_ chart: Chart) -> String {
        switch chart {
        case let .kldHistogram(title, kld, mean, p99): KLDHistogram.svg(title: title, kld: kld, mean: mean, p99: p99)
        case let .bars(title, unit, bars): BarChart.svg(title: title, bars: bars, unit: unit)
        case let .heatmap(title, caption, labels, cells): Heatmap.svg(title: title, caption: caption, labels: labels, cells: cells)
        case let .distribution(title, unit, values, estimate, low, high):
            DistributionChart.svg(title: title, unit: unit, values: values, estimate: estimate, low: low, high: high)
        }
    }

    /// The title an SVG this renderer wrote carries (its first `<title>`), unescaped; nil for
    /// another file (`assay report` titles the charts it finds beside a stored report so).
    public static func title(ofSVG svg: String) -> String? {
        guard let start = svg.range(of: "<title>"), let end = svg.range(of: "</title>", range: start.upperBound..<svg.endIndex) else { return nil }
        let escaped = svg[start.upperBound..<end.lowerBound]
        guard !escaped.isEmpty, escaped.count <= 500 else { return nil }
        return escaped.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
    }
}
