import Foundation

/// An SVG heatmap of pairwise kappa: raters on both axes, each cell coloured from red (≤ 0)
/// through white (0.4) to green (1), with the value printed; grey where a pair shares no items.
public enum KappaHeatmap {
    /// The SVG document for `analysis`.
    public static func svg(_ analysis: AgreementAnalysis) -> String {
        let raters = analysis.raters
        let n = raters.count
        var kappa: [String: Double?] = [:]
        for pair in analysis.pairs {
            kappa["\(pair.raters[0])\u{0}\(pair.raters[1])"] = pair.kappa
            kappa["\(pair.raters[1])\u{0}\(pair.raters[0])"] = pair.kappa
        }
        let cell = 44, labelWidth = 90, top = 70
        let width = labelWidth + n * cell + 20, height = top + n * cell + 40
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title>Pairwise Cohen's kappa (\(escape(analysis.weights)) weights) — \(escape(analysis.set))</title>\n"
        svg += "<text x=\"\(labelWidth)\" y=\"18\" font-size=\"13\">Pairwise kappa (\(escape(analysis.weights))) — \(escape(analysis.set))</text>\n"
        for (j, rater) in raters.enumerated() {
            let x = labelWidth + j * cell + cell / 2
            svg += "<text x=\"\(x)\" y=\"\(top - 8)\" text-anchor=\"start\" transform=\"rotate(-45 \(x) \(top - 8))\">\(escape(rater))</text>\n"
        }
        for (i, a) in raters.enumerated() {
            let y = top + i * cell
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">\(escape(a))</text>\n"
            for (j, b) in raters.enumerated() {
                let x = labelWidth + j * cell
                let value: Double?? = i == j ? .some(1) : kappa["\(a)\u{0}\(b)"]
                let fill: String
                var text = ""
                switch value {
                case .some(.some(let v)):
                    fill = color(v)
                    text = String(format: "%.2f", v)
                case .some(.none):
                    fill = "#dddddd"
                    text = "n/a"
                case .none:
                    fill = "#f4f4f4"
                }
                svg += "<rect x=\"\(x)\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"\(fill)\" stroke=\"#ffffff\"/>"
                if !text.isEmpty {
                    svg += "<text x=\"\(x + cell / 2)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"middle\">\(text)</text>"
                }
                svg += "\n"
            }
        }
        svg += "<text x=\"\(labelWidth)\" y=\"\(height - 12)\" fill=\"#555555\">red ≤ 0 · white 0.4 · green 1; grey: no shared items or undefined</text>\n"
        return svg + "</svg>\n"
    }

    /// Red (≤ 0) → white (0.4) → green (1).
    static func color(_ value: Double) -> String {
        let v = min(1, max(0, value))
        let (r, g, b): (Double, Double, Double)
        if v < 0.4 {
            let t = v / 0.4
            (r, g, b) = (215 + (255 - 215) * t, 48 + (255 - 48) * t, 39 + (255 - 39) * t)
        } else {
            let t = (v - 0.4) / 0.6
            (r, g, b) = (255 - (255 - 26) * t, 255 - (255 - 152) * t, 255 - (255 - 80) * t)
        }
        return String(format: "#%02x%02x%02x", Int(r.rounded()), Int(g.rounded()), Int(b.rounded()))
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
