import AssayEvaluators
import AssayReport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// The SVG renderers: well-formed, escaped, every cell and bar drawn.
struct ChartTests {
    @Test func heatmapIsWellFormedAndShowsEveryPair() throws {
        let rows = [("1", "a", "1"), ("1", "b", "1"), ("1", "c", "2"), ("2", "a", "2"), ("2", "b", "2"), ("2", "c", "2"),
                    ("3", "a", "3"), ("3", "b", "2"), ("3", "c", "<&>")]
        let set = try RatingSet.build(name: "s<1>", scale: .categories(["1", "2", "3", "<&>"]),
                                      raw: rows.map { RawRating(location: "", item: $0.0, rater: $0.1, label: $0.2) }, path: "", readProblems: [])
        let svg = ChartRenderer.svg(try AgreementAnalysis(set, weighting: .none, level: .nominal).kappaChart)
        #expect(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("s&lt;1&gt;") && !svg.contains("s<1>"))
        #expect(svg.components(separatedBy: "<rect ").count - 1 == 9)
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse())
    }

    /// A broken model's tokens (NaN, infinite KLD) neither trap nor vanish unsaid.
    @Test func kldHistogramTakesValuesThatAreNotFinite() {
        let svg = KLDHistogram.svg(title: "t", kld: [.nan, .infinity, 0.1, 1e-9], mean: .infinity, p99: .nan)
        #expect(svg.contains("3 tokens (1 not a number, left out)") && svg.hasSuffix("</svg>\n"))
    }

    @Test func chartScalesAndEscapes() {
        let svg = BarChart.svg(title: "a < b & c", bars: [.init(label: "pp512", value: 410, low: 400, high: 420),
                                                                 .init(label: "tg64", value: 44, low: 43, high: 45)])
        #expect(svg.contains("a &lt; b &amp; c") && svg.contains(">500<"))  // axis up to 500
        #expect(svg.components(separatedBy: "<rect").count == 3)
    }

    /// A bootstrap distribution: every replicate counted in a bin, the interval shaded, the
    /// estimate and both ends marked with their values; a flat distribution still draws.
    @Test func bootstrapDistributionCountsEveryReplicate() throws {
        let replicates = (0..<1000).map { 20 + 4 * sin(Double($0)) }
        let svg = ChartRenderer.svg(.distribution(title: "BLEU <&>", unit: "BLEU", values: replicates, estimate: 20.1, low: 16.2, high: 23.9))
        #expect(XMLParser(data: Data(svg.utf8)).parse())
        #expect(svg.contains("BLEU &lt;&amp;&gt;") && svg.contains("estimate 20.1") && svg.contains("2.5 % 16.2") && svg.contains("97.5 % 23.9"))
        let counts = svg.matches(of: /<title>(\d+) of 1000 replicates/).map { Int($0.1)! }
        #expect(counts.reduce(0, +) == 1000 && counts.count > 10)
        #expect(svg.contains("95 % interval 16.2 to 23.9"))
        let flat = ChartRenderer.svg(.distribution(title: "t", unit: "", values: [5, 5, 5], estimate: 5, low: 5, high: 5))
        #expect(XMLParser(data: Data(flat.utf8)).parse() && flat.contains("3 of 3 replicates"))
    }
}
