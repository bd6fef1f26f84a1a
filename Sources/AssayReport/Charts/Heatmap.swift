import AssayEvaluators
import Foundation

/// An SVG heatmap of a symmetric matrix over labels (pairwise kappa): each cell coloured from red
/// (≤ 0) through white (0.4) to green (1), with the value printed; grey where a value is undefined.
public enum Heatmap {
    /// The SVG document; the diagonal is drawn as 1.
    public static func svg(title: String, caption: String, labels raters: [String], cells: [[HeatmapCell]]) -> String {
        let n = raters.count
        let cell = 44, labelWidth = 90, top = 70
        let width = labelWidth + n * cell + 20, height = top + n * cell + 40
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"11\">\n"
        svg += "<title>\(SVGText.escape(title))</title>\n"
        svg += "<text x=\"\(labelWidth)\" y=\"18\" font-size=\"13\">\(SVGText.escape(caption))</text>\n"
        for (j, rater) in raters.enumerated() {
            let x = labelWidth + j * cell + cell / 2
            svg += "<text x=\"\(x)\" y=\"\(top - 8)\" text-anchor=\"start\" transform=\"rotate(-45 \(x) \(top - 8))\">\(SVGText.escape(rater))</text>\n"
        }
        for (i, label) in raters.enumerated() {
            let y = top + i * cell
            svg += "<text x=\"\(labelWidth - 6)\" y=\"\(y + cell / 2 + 4)\" text-anchor=\"end\">\(SVGText.escape(label))</text>\n"
            for j in raters.indices {
                let x = labelWidth + j * cell
                let value: HeatmapCell = i == j ? .value(1) : (i < cells.count && j < cells[i].count ? cells[i][j] : .absent)
                let fill: String
                var text = ""
                switch value {
                case let .value(v):
                    fill = color(v)
                    text = String(format: "%.2f", v)
                case .undefined:
                    fill = "#dddddd"
                    text = "n/a"
                case .absent:
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
}
