import AssayEvaluators
import AssaySuite
import Foundation

/// Markdown for people: pair table, Fleiss, Krippendorff, confusion matrices.
public enum AgreementMarkdown {
    static func f(_ value: Double?) -> String { value.map(GateJudge.format) ?? "—" }

    /// The analysis as a Markdown document. Set, rater and category names come from the
    /// ratings file: they are escaped (`MarkdownEscaping.cell`), so a name with `|` or `<script>`
    /// cannot break the tables or inject HTML.
    public static func render(_ a: AgreementAnalysis) -> String {
        let e = MarkdownEscaping.cell
        var md = "# Agreement — \(e(a.set))\n\n"
        md += "\(a.items) items, \(a.raters.count) raters, scale \(e(a.scale)), kappa weights \(a.weights).\n\n"
        md += "## Rater pairs (Cohen's kappa)\n\n| raters | n | observed | expected | kappa | ASE | 95 % CI | reading |\n|---|---:|---:|---:|---:|---:|---|---|\n"
        if a.pairs.isEmpty { md += "| no two raters share an item | | | | | | | |\n" }
        for p in a.pairs {
            let ci = p.ci_low.map { "[\(f($0)), \(f(p.ci_high))]" } ?? ""
            md += "| \(p.raters.map(e).joined(separator: " · ")) | \(p.n) | \(f(p.observed)) | \(f(p.expected)) | \(f(p.kappa)) | \(f(p.ase)) | \(ci) | \(p.interpretation ?? (p.reason ?? "")) |\n"
        }
        md += "\n## All raters\n\n"
        md += "- Fleiss' kappa: \(f(a.fleiss.kappa))\(a.fleiss.interpretation.map { " (\($0))" } ?? "") · Randolph's kappa: \(f(a.fleiss.randolph)) — over \(a.fleiss.items_used) items with \(a.fleiss.raters_per_item) raters each (\(a.fleiss.items_left_out) left out)\(a.fleiss.reason.map { "; \($0)" } ?? "")\n"
        md += "- Krippendorff's alpha (\(a.krippendorff.level)): \(f(a.krippendorff.alpha))\(a.krippendorff.interpretation.map { " (\($0))" } ?? "")\(a.krippendorff.reason.map { "; \($0)" } ?? "")\n\n"
        md += "Readings after Landis & Koch (1977): < 0 poor, ≤ 0.20 slight, ≤ 0.40 fair, ≤ 0.60 moderate, ≤ 0.80 substantial, above almost perfect.\n"
        if a.categories.count > AgreementAnalysis.denseConfusionLimit, !a.pairs.isEmpty {
            md += "\nConfusion matrices are left out: \(a.categories.count) categories (more than \(AgreementAnalysis.denseConfusionLimit)). `--format json` lists each pair's nonzero cells (`confusion_cells`).\n"
        }
        for p in a.pairs.prefix(10) {
            guard let confusion = p.confusion else { continue }
            md += "\n### Confusion: \(e(p.raters[0])) (rows) × \(e(p.raters[1])) (columns)\n\n| | " + a.categories.map(e).joined(separator: " | ") + " |\n|---|" + String(repeating: "---:|", count: a.categories.count) + "\n"
            for (i, row) in confusion.enumerated() { md += "| **\(e(a.categories[i]))** | " + row.map(String.init).joined(separator: " | ") + " |\n" }
        }
        return md
    }
}
