import Foundation

/// The distribution of per-token KL divergence as an SVG histogram over log₁₀(KLD) (bins of 0.25
/// decade from 10⁻⁶ to 10¹; smaller values in the first bin, larger in the last), with the mean
/// and the 99th percentile marked.
public enum KLDHistogram {
    public static func svg(title: String, kld values: [Float], mean: Double, p99: Double) -> String {
        let lowest = -6.0, highest = 1.0, step = 0.25
        let binCount = Int((highest - lowest) / step)
        var bins = [Int](repeating: 0, count: binCount)
        // A NaN (a broken model's token) has no place on the axis; an infinite one goes in the last bin.
        let drawn = values.filter { !$0.isNaN }
        for v in drawn {
            let x = log10(max(Double(v), 1e-12))
            bins[Int(min(Double(binCount - 1), max(0, ((x - lowest) / step).rounded(.down))))] += 1
        }
        let left = 60, top = 40, plotWidth = 560, plotHeight = 200, width = left + plotWidth + 20, height = top + plotHeight + 50
        let maxCount = max(1, bins.max() ?? 1)
        func x(_ log: Double) -> Double { Double(left) + (log - lowest) / (highest - lowest) * Double(plotWidth) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title>\(SVGText.escape(title))</title>\n<text x=\"\(left)\" y=\"20\" font-size=\"13\">\(SVGText.escape(title))</text>\n"
        for (i, count) in bins.enumerated() where count > 0 {
            let h = Double(count) / Double(maxCount) * Double(plotHeight)
            let x0 = x(lowest + Double(i) * step)
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(Double(top + plotHeight) - h))\" width=\"\(f(x(lowest + step) - x(lowest) - 1))\" height=\"\(f(h))\" fill=\"#4a7ebb\"><title>\(count) tokens</title></rect>\n"
        }
        for decade in stride(from: -6, through: 1, by: 1) {
            let xx = x(Double(decade))
            svg += "<line x1=\"\(f(xx))\" y1=\"\(top + plotHeight)\" x2=\"\(f(xx))\" y2=\"\(top + plotHeight + 4)\" stroke=\"#222\"/>\n"
            svg += "<text x=\"\(f(xx))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">1e\(decade)</text>\n"
        }
        for (label, value, color) in [("mean", mean, "#c0392b"), ("p99", p99, "#8e44ad")] where value > 0 {
            let xx = x(min(highest, max(lowest, log10(value))))
            svg += "<line x1=\"\(f(xx))\" y1=\"\(top)\" x2=\"\(f(xx))\" y2=\"\(top + plotHeight)\" stroke=\"\(color)\" stroke-dasharray=\"4 3\"/>\n"
            svg += "<text x=\"\(f(xx + 3))\" y=\"\(top + 10)\" fill=\"\(color)\">\(label) \(String(format: "%.4g", value))</text>\n"
        }
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">KL divergence per token (log scale), \(drawn.count) tokens\(drawn.count < values.count ? " (\(values.count - drawn.count) not a number, left out)" : "")</text>\n"
        return svg + "</svg>\n"
    }
}
