import AssayCore
import AssayEvaluators
import AssayMetrics
import AssaySuite
import Foundation

/// The Markdown report (DESIGN §6): verdict first, then the gate table, then one section per
/// evaluation with its signature. Everything from data or models is escaped.
public enum MarkdownReport {
    /// The report for `outcome`.
    public static func render(_ outcome: RunOutcome) -> String {
        var md = ""
        let icon: String
        switch outcome.verdict {
        case .pass: icon = "✅ PASS"
        case .fail: icon = "❌ FAIL"
        case .error: icon = "⚠️ ERROR"
        case .interrupted: icon = "⏹️ INTERRUPTED"
        }
        md += "# \(icon) — \(MarkdownEscaping.cell(outcome.suite))\n\n"
        md += verdictSentence(outcome) + "\n\n"
        md += "Run \(MarkdownEscaping.code(outcome.runID)) · \(ReportDocument.timestamp(outcome.started)) · "
        md += String(format: "%.2f s", outcome.finished.timeIntervalSince(outcome.started))
        md += " · host \(MarkdownEscaping.cell(outcome.host)) · assay \(AssayVersion.current)"
        if let commit = outcome.gitCommit { md += " · commit \(MarkdownEscaping.code(String(commit.prefix(12))))" }
        md += "\n\n"
        md += "## Gates\n\n"
        if outcome.gates.isEmpty {
            md += "No gates in this suite.\n\n"
        } else {
            md += "| | Metric | Rule | Value | Threshold | Baseline | Δ | Detail |\n"
            md += "|---|---|---|---:|---:|---:|---:|---|\n"
            for gate in outcome.gates {
                let mark: String
                switch gate.status {
                case .pass: mark = "✅"
                case .fail: mark = "❌"
                case .skipped: mark = "➖"
                case .error: mark = "⚠️"
                }
                md += "| \(mark) | \(MarkdownEscaping.cell(gate.metric)) | \(gate.rule) | \(number(gate.value)) | "
                md += "\(GateJudge.format(gate.threshold)) | \(number(gate.baseline)) | \(signed(gate.delta)) | "
                md += "\(MarkdownEscaping.cell(gate.message)) |\n"
            }
            md += "\n"
            if let baseline = outcome.baselineRunID { md += "Baseline run: \(MarkdownEscaping.code(baseline))\n\n" }
        }
        md += "## Evaluations\n\n"
        md += "| Evaluation | Evaluator | Status | Metrics | Time |\n|---|---|---|---|---:|\n"
        for e in outcome.evaluations {
            let summary = e.metrics.prefix(3).map { "\($0.name) \(number($0.value))" }.joined(separator: ", ")
            let status = statusText(e.status) + (e.reusedFrom.map { " (reused from \(MarkdownEscaping.cell($0)))" } ?? "")
            md += "| \(MarkdownEscaping.cell(e.id)) | \(e.evaluator) | \(status) | \(MarkdownEscaping.cell(summary)) | "
            md += String(format: "%.2f s", e.seconds) + " |\n"
        }
        md += "\n"
        for e in outcome.evaluations {
            md += "### \(MarkdownEscaping.cell(e.id)) (\(e.evaluator))\n\n"
            if let error = e.error {
                md += "**\(statusText(e.status)):** \(MarkdownEscaping.cell(error.errorDescription ?? error.message))"
                    + (error.hint.map { " — hint: \(MarkdownEscaping.cell($0))" } ?? "") + "\n\n"
            }
            if !e.signature.isEmpty { md += "Signature: \(MarkdownEscaping.code(e.signature))\n\n" }
            if !e.metrics.isEmpty {
                md += "| Metric | Value | 95 % CI | ± stderr | Unit | Better |\n|---|---:|---|---:|---|---|\n"
                for m in e.metrics {
                    let ci = m.ciLow.flatMap { low in m.ciHigh.map { "[\(GateJudge.format(low)), \(GateJudge.format($0))]" } } ?? ""
                    md += "| \(MarkdownEscaping.cell(m.name)) | \(number(m.value)) | \(ci) | \(number(m.stderr, empty: "")) | "
                    md += "\(MarkdownEscaping.cell(m.unit ?? "")) | \(m.higherIsBetter ? "higher" : "lower") |\n"
                }
                md += "\n"
                let notes = e.metrics.filter { $0.note != nil }
                for m in notes { md += "- \(MarkdownEscaping.cell(m.name)): \(MarkdownEscaping.cell(m.note!))\n" }
                if !notes.isEmpty { md += "\n" }
            }
            for artifact in e.artifacts {
                md += "![\(MarkdownEscaping.cell(artifact.title))](\(outcome.runID).\(ReportWriter.artifactSuffix(e, artifact)))\n\n"
            }
            if e.itemsInReport, !e.items.isEmpty, e.items.count <= 200 {
                // Texts (a hypothesis, its references) stay in the items file and the HTML drill-down.
                let keys = Array(Set(e.items.flatMap(\.values.keys)).subtracting(ItemRow.textKeys).subtracting(ItemRow.mergeOnlyKeys)).sorted()
                md += "| Item | " + keys.map(MarkdownEscaping.cell).joined(separator: " | ") + " |\n|---|" + keys.map { _ in "---:|" }.joined() + "\n"
                for item in e.items {
                    md += "| \(MarkdownEscaping.cell(item.id)) | " + keys.map { key in
                        switch item.values[key] {
                        case let .number(v)?: number(v)
                        case let .string(text)?: MarkdownEscaping.cell(text)
                        default: ""
                        }
                    }.joined(separator: " | ") + " |\n"
                }
                md += "\n"
            }
            if !e.items.isEmpty { md += "\(e.items.count) items; per-item statistics in the items file.\n\n" }
        }
        if !outcome.models.isEmpty {
            md += "## Models\n\n| Name | Path | Format | SHA-256 |\n|---|---|---|---|\n"
            for model in outcome.models {
                md += "| \(MarkdownEscaping.cell(model.name)) | \(MarkdownEscaping.cell(model.path)) | \(model.format) | "
                md += "\(model.sha256.map { MarkdownEscaping.code(String($0.prefix(16))) } ?? "") |\n"
            }
            md += "\n"
        }
        return md
    }

    static func verdictSentence(_ outcome: RunOutcome) -> String {
        let failed = outcome.gates.filter { $0.status == .fail }
        let errors = outcome.evaluations.filter { $0.status == .error }
        switch outcome.verdict {
        case .pass:
            return "All \(outcome.evaluations.count) evaluation(s) ran and \(outcome.gates.filter { $0.status == .pass }.count) gate rule(s) passed."
        case .fail:
            return "\(failed.count) gate rule(s) failed: " + failed.map { "\(MarkdownEscaping.cell($0.metric)) \($0.rule) — \(MarkdownEscaping.cell($0.message))" }.joined(separator: "; ") + "."
        case .error:
            // An error verdict comes from evaluations that could not run, or from gates that could
            // not be judged (a metric without a value) while every evaluation ran.
            let failedIDs = Set(errors.map(\.id))
            let unjudged = outcome.gates.filter { gate in gate.status == .error && !failedIDs.contains(String(gate.metric.prefix { $0 != "." })) }
            let parts = (errors.isEmpty ? [] : ["\(errors.count) evaluation(s) could not run: " + errors.map { MarkdownEscaping.cell($0.id) }.joined(separator: ", ")])
                + (unjudged.isEmpty ? [] : ["\(unjudged.count) gate rule(s) could not be judged: "
                    + unjudged.map { "\(MarkdownEscaping.cell($0.metric)) — \(MarkdownEscaping.cell($0.message))" }.joined(separator: "; ")])
            return parts.joined(separator: "; ") + "."
        case .interrupted:
            return "The run was interrupted; results below are partial."
        }
    }

    static func statusText(_ status: EvaluationOutcome.Status) -> String {
        switch status {
        case .ok: return "ok"
        case .error: return "error"
        case .interrupted: return "interrupted"
        }
    }

    static func number(_ value: Double?, empty: String = "—") -> String { value.map(GateJudge.format) ?? empty }

    static func signed(_ value: Double?) -> String {
        guard let value else { return "" }
        return value >= 0 ? "+" + GateJudge.format(value) : GateJudge.format(value)
    }
}
