import Foundation

import AssayEvaluators

/// An SVG bar chart with error bars (a vertical line from `low` to `high`): tokens/s per test.
public enum BarChart {
    /// The SVG document; the y axis starts at 0 and ends at the largest `high`, rounded up.
    public static func svg(title: String, bars: [ChartBar], unit: String = "tokens/s") -> String {
        let barWidth = 56, gap = 28, left = 70, top = 40, plotHeight = 220
        let width = left + max(1, bars.count) * (barWidth + gap) + 20, height = top + plotHeight + 60
        let top95 = bars.map { max($0.high, $0.value) }.max() ?? 1
        let scaleMax = niceCeiling(max(top95, 1e-9))
        func y(_ v: Double) -> Double { Double(top + plotHeight) - max(0, v) / scaleMax * Double(plotHeight) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title>\(SVGText.escape(title))</title>\n"
        svg += "<text x=\"\(left)\" y=\"20\" font-size=\"13\">\(SVGText.escape(title))</text>\n"
        for step in 0...4 {
            let v = scaleMax * Double(step) / 4, yy = y(v)
            svg += "<line x1=\"\(left)\" y1=\"\(fmt(yy))\" x2=\"\(width - 20)\" y2=\"\(fmt(yy))\" stroke=\"#ddd\"/>\n"
            svg += "<text x=\"\(left - 6)\" y=\"\(fmt(yy + 4))\" text-anchor=\"end\">\(fmt(v))</text>\n"
        }
        svg += "<text x=\"14\" y=\"\(top + plotHeight / 2)\" transform=\"rotate(-90 14 \(top + plotHeight / 2))\" text-anchor=\"middle\">\(SVGText.escape(unit))</text>\n"
        for (i, bar) in bars.enumerated() {
            let x = left + gap / 2 + i * (barWidth + gap), center = Double(x) + Double(barWidth) / 2
            svg += "<rect x=\"\(x)\" y=\"\(fmt(y(bar.value)))\" width=\"\(barWidth)\" height=\"\(fmt(Double(top + plotHeight) - y(bar.value)))\" fill=\"#4a7ebb\"/>\n"
            svg += "<line x1=\"\(fmt(center))\" y1=\"\(fmt(y(bar.low)))\" x2=\"\(fmt(center))\" y2=\"\(fmt(y(bar.high)))\" stroke=\"#222\" stroke-width=\"1.5\"/>\n"
            for v in [bar.low, bar.high] {
                svg += "<line x1=\"\(fmt(center - 8))\" y1=\"\(fmt(y(v)))\" x2=\"\(fmt(center + 8))\" y2=\"\(fmt(y(v)))\" stroke=\"#222\" stroke-width=\"1.5\"/>\n"
            }
            svg += "<text x=\"\(fmt(center))\" y=\"\(fmt(y(bar.high) - 6))\" text-anchor=\"middle\">\(fmt(bar.value))</text>\n"
            svg += "<text x=\"\(fmt(center))\" y=\"\(top + plotHeight + 18)\" text-anchor=\"middle\">\(SVGText.escape(bar.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// 1, 2 or 5 times a power of ten, at least `value`.
    static func niceCeiling(_ value: Double) -> Double {
        let power = pow(10, floor(log10(value)))
        for m in [1.0, 2, 5, 10] where m * power >= value { return m * power }
        return 10 * power
    }

    static func fmt(_ v: Double) -> String {
        let text = String(format: v >= 100 ? "%.0f" : "%.1f", v)
        return text
    }

}
