import Foundation

/// Bootstrap replicates as an SVG histogram (30 bins over their range, the 95 % interval shaded),
/// with the estimate and both ends of the interval marked and labelled.
public enum DistributionChart {
    public static func svg(title: String, unit: String, values: [Double], estimate: Double, low: Double, high: Double) -> String {
        let finite = values.filter(\.isFinite)
        let left = 60, top = 40, plotWidth = 560, plotHeight = 200, width = left + plotWidth + 20, height = top + plotHeight + 50
        // The axis spans the replicates and the marks; a flat distribution still gets a width.
        var lowest = ([estimate, low, high] + finite).filter(\.isFinite).min() ?? 0
        var highest = ([estimate, low, high] + finite).filter(\.isFinite).max() ?? 1
        if highest - lowest < 1e-12 { (lowest, highest) = (lowest - 0.5, highest + 0.5) }
        let pad = (highest - lowest) * 0.02
        (lowest, highest) = (lowest - pad, highest + pad)
        let binCount = 30, step = (highest - lowest) / Double(binCount)
        var bins = [Int](repeating: 0, count: binCount)
        // A range rounding cannot split (huge equal values) or that overflows: one bin holds all.
        let usable = step > 0 && step.isFinite
        for v in finite {
            let position = usable ? ((v - lowest) / step).rounded(.down) : 0
            bins[min(binCount - 1, max(0, position.isFinite ? Int(max(-1, min(Double(binCount), position))) : 0))] += 1
        }
        let maxCount = max(1, bins.max() ?? 1)
        func x(_ v: Double) -> Double { Double(left) + (v - lowest) / (highest - lowest) * Double(plotWidth) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        func number(_ v: Double) -> String { String(format: "%.4g", v) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title>\(SVGText.escape(title))</title>\n<text x=\"\(left)\" y=\"20\" font-size=\"13\">\(SVGText.escape(title))</text>\n"
        if low.isFinite, high.isFinite {
            svg += "<rect x=\"\(f(x(low)))\" y=\"\(top)\" width=\"\(f(max(1, x(high) - x(low))))\" height=\"\(plotHeight)\" fill=\"#4a7ebb\" fill-opacity=\"0.12\"><title>95 % interval \(number(low)) to \(number(high))</title></rect>\n"
        }
        for (i, count) in bins.enumerated() where count > 0 {
            let h = Double(count) / Double(maxCount) * Double(plotHeight)
            let from = lowest + Double(i) * step
            svg += "<rect x=\"\(f(x(from)))\" y=\"\(f(Double(top + plotHeight) - h))\" width=\"\(f(max(1, x(from + step) - x(from) - 1)))\" height=\"\(f(h))\" fill=\"#4a7ebb\"><title>\(count) of \(finite.count) replicates in [\(number(from)), \(number(from + step)))</title></rect>\n"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\" stroke=\"#222\"/>\n"
        for tick in 0...4 {
            let v = lowest + Double(tick) / 4 * (highest - lowest), xx = x(v)
            svg += "<line x1=\"\(f(xx))\" y1=\"\(top + plotHeight)\" x2=\"\(f(xx))\" y2=\"\(top + plotHeight + 4)\" stroke=\"#222\"/>\n"
            svg += "<text x=\"\(f(xx))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(number(v))</text>\n"
        }
        for (label, value, color, row) in [("estimate", estimate, "#c0392b", 0), ("2.5 %", low, "#555", 1), ("97.5 %", high, "#555", 2)] where value.isFinite {
            let xx = x(value)
            svg += "<line x1=\"\(f(xx))\" y1=\"\(top)\" x2=\"\(f(xx))\" y2=\"\(top + plotHeight)\" stroke=\"\(color)\" stroke-dasharray=\"4 3\"/>\n"
            svg += "<text x=\"\(f(xx + 3))\" y=\"\(top + 10 + row * 12)\" fill=\"\(color)\">\(label) \(number(value))</text>\n"
        }
        let caption = "\(unit.isEmpty ? "value" : SVGText.escape(unit)) over \(finite.count) bootstrap resamples"
        svg += "<text x=\"\(left + plotWidth / 2)\" y=\"\(height - 8)\" text-anchor=\"middle\">\(caption)</text>\n"
        return svg + "</svg>\n"
    }
}
