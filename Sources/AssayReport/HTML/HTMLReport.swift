import AssayEvaluators
import AssaySuite
import Foundation

/// A chart for the HTML report: its title and SVG, shown as an image (`data:` URL), so the page
/// stays one file and nothing inside an SVG can run as the page's script.
public struct HTMLChart: Sendable, Equatable {
    public var title: String
    public var svg: String

    public init(title: String, svg: String) {
        self.title = title
        self.svg = svg
    }
}

/// The self-contained HTML report of a run (`reports/<suite>/<run>.html`, `assay report --html`):
/// inline style and script, no network; plain tables that the script only enhances (sorting,
/// search, a numeric filter, keyboard navigation, row details), readable with script off.
/// Rendered from Mustache templates (``HTMLTemplates``), so every text and attribute from a run
/// is escaped by construction; this type only turns a run into the templates' views.
public enum HTMLReport {
    /// What the page shows of one run.
    public struct Run: Sendable {
        public var document: ReportDocument
        /// Per-item rows by evaluation id.
        public var items: [String: [ItemRow]]
        /// Charts by evaluation id.
        public var charts: [String: [HTMLChart]]

        public init(document: ReportDocument, items: [String: [ItemRow]], charts: [String: [HTMLChart]]) {
            self.document = document
            self.items = items
            self.charts = charts
        }

        /// The run as `assay run` has it in memory.
        public init(_ outcome: RunOutcome, itemsFile: String?) {
            document = ReportDocument(outcome, itemsFile: itemsFile)
            items = Dictionary(outcome.evaluations.map { ($0.id, $0.items) }, uniquingKeysWith: { a, _ in a })
            charts = Dictionary(outcome.evaluations.map { e in (e.id, e.artifacts.map { HTMLChart(title: $0.title, svg: ChartRenderer.svg($0.chart)) }) },
                                uniquingKeysWith: { a, _ in a })
        }
    }

    /// The page of one run.
    public static func render(_ run: Run) -> String {
        let d = run.document
        return HTMLTemplates.render(["title": "\(verdictLabel(d.verdict)) — \(d.suite)", "verdict": d.verdict, "run": view(run)])
    }

    /// The verdict as a word (no emoji: a browser without an emoji font shows a box).
    static func verdictLabel(_ verdict: String) -> String {
        switch verdict {
        case "pass": return "PASS"
        case "fail": return "FAIL"
        case "interrupted": return "INTERRUPTED"
        default: return "ERROR"
        }
    }

    static func view(_ run: Run) -> [String: Any] {
        let d = run.document
        var meta = "Run \(d.run_id) · \(d.started) · \(seconds(from: d.started, to: d.finished)) · host \(d.host) · assay \(d.assay_version)"
        if let commit = d.git_commit { meta += " · commit \(commit.prefix(12))" }
        let gates: [[String: Any]] = d.gates.map { gate in
            ["status": gate.status, "metric": gate.metric, "rule": gate.rule, "value": format(gate.value), "threshold": GateJudge.format(gate.threshold),
             "baseline": format(gate.baseline), "delta": signed(gate.delta), "message": gate.message]
        }
        let models: [[String: Any]] = d.models.map { ["name": $0.name, "path": $0.path, "format": $0.format, "sha": $0.sha256.map { String($0.prefix(16)) } ?? ""] }
        let withTexts = d.evaluations.filter { ItemTexts.hasTexts(run.items[$0.id] ?? []) }.count
        let textBudget = ItemTexts.pageBudget / max(1, withTexts)
        return ["verdict": d.verdict, "verdictLabel": verdictLabel(d.verdict), "suite": d.suite, "sentence": verdictSentence(d), "meta": meta,
                "suiteFile": d.suite_file, "suiteHash": String(d.suite_sha256.prefix(16)),
                "gates": gates, "hasGates": !gates.isEmpty, "baselineRun": nonEmpty(d.baseline_run_id),
                "evaluations": d.evaluations.map { evaluation($0, run: run, textBudget: textBudget) },
                "models": models, "hasModels": !models.isEmpty,
                "footer": "assay \(d.assay_version) · schema \(d.schema) · generated from run \(d.run_id)"]
    }

    static func verdictSentence(_ d: ReportDocument) -> String {
        let failed = d.gates.filter { $0.status == "fail" }
        switch d.verdict {
        case "pass":
            return "All \(d.evaluations.count) evaluation(s) ran and \(d.gates.filter { $0.status == "pass" }.count) gate rule(s) passed."
        case "fail":
            return "\(failed.count) gate rule(s) failed: " + failed.map { "\($0.metric) \($0.rule) — \($0.message)" }.joined(separator: "; ") + "."
        case "interrupted":
            return "The run was interrupted; results below are partial."
        default:
            let errors = d.evaluations.filter { $0.status != "ok" }.map(\.id)
            return "\(errors.count) evaluation(s) could not run: " + errors.joined(separator: ", ") + "."
        }
    }

    static func seconds(from start: String, to end: String) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let a = formatter.date(from: start), let b = formatter.date(from: end) else { return "" }
        return format(b.timeIntervalSince(a)) + " s"
    }

    /// A fragment id for an evaluation (ids are free text in suites).
    static func anchor(_ id: String) -> String {
        "eval-" + String(id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" })
    }

    static func format(_ value: Double?) -> String { value.map(GateJudge.format) ?? "—" }

    /// A class for the templates' optional `class` attribute: false (no attribute) when empty.
    static func classAttribute(_ name: String) -> Any { nonEmpty(name) }

    /// A value for an optional section: false when absent or empty (Mustache renders a section
    /// for any string, the empty one included).
    static func nonEmpty(_ text: String?) -> Any { text.flatMap { $0.isEmpty ? nil : $0 } ?? false }

    static func signed(_ value: Double?) -> String {
        guard let value else { return "" }
        return (value >= 0 ? "+" : "") + GateJudge.format(value)
    }

    static func evaluation(_ e: ReportDocument.Evaluation, run: Run, textBudget: Int) -> [String: Any] {
        let metrics: [[String: Any]] = e.metrics.map { m in
            ["name": m.name, "note": nonEmpty(m.note), "value": format(m.value),
             "ci": m.ci_low.flatMap { low in m.ci_high.map { "[\(GateJudge.format(low)), \(GateJudge.format($0))]" } } ?? "",
             "stderr": m.stderr.map(GateJudge.format) ?? "", "unit": m.unit ?? "", "better": m.higher_is_better ? "higher" : "lower"]
        }
        let charts: [[String: Any]] = (run.charts[e.id] ?? []).map {
            ["title": $0.title, "source": "data:image/svg+xml;base64," + Data($0.svg.utf8).base64EncodedString()]
        }
        let items = run.items[e.id] ?? []
        let headline = e.metrics.prefix(3).map { "\($0.name) \(format($0.value))" + ($0.unit.map { " \($0)" } ?? "") }.joined(separator: ", ")
        return ["id": e.id, "anchor": anchor(e.id), "evaluator": e.evaluator, "status": e.status, "statusClass": e.status == "ok" ? "pass" : "error",
                "seconds": GateJudge.format(e.seconds), "headline": headline, "error": nonEmpty(e.error),
                "signature": nonEmpty(e.signature), "metrics": metrics, "hasMetrics": !metrics.isEmpty, "charts": charts,
                "itemTable": items.isEmpty ? false : itemTable(items, evaluation: e.id, textBudget: textBudget)]
    }

    static func cell(_ value: JSONValue?) -> (text: String, numeric: Bool) {
        switch value {
        case let .number(v)?: return (GateJudge.format(v), true)
        case let .string(s)?: return (s, false)
        case let .bool(b)?: return (b ? "true" : "false", false)
        case let .array(values)?: return (values.map { cell($0).text }.joined(separator: " "), false)
        case let .object(object)?: return (object.keys.sorted().map { "\($0)=\(cell(object[$0]).text)" }.joined(separator: " "), false)
        default: return ("", false)
        }
    }

    /// The view of an `items` table: `id` and every key of the rows but their texts, in name
    /// order. A column is numeric (right-aligned, sorted and filtered as numbers) when all its
    /// values are numbers. Items with texts (``ItemTexts``) get a last `text` column holding each
    /// one's drill-down, for as many items as `textBudget` bytes of text allow.
    static func itemTable(_ items: [ItemRow], evaluation: String, textBudget: Int) -> [String: Any] {
        let keys = Array(Set(items.flatMap(\.values.keys)).subtracting(ItemRow.textKeys).subtracting(ItemRow.mergeOnlyKeys)).sorted()
        let numeric = Set(keys.filter { key in items.allSatisfy { item in
            if case .number = item.values[key] { return true } else { return item.values[key] == nil }
        } })
        let texts = ItemTexts.hasTexts(items)
        let (shown, chosenBy) = texts ? ItemTexts.chosen(items, budget: textBudget) : ([:], nil)
        let columns: [[String: Any]] = [["name": "id", "cls": false]] + keys.map { ["name": $0, "cls": classAttribute(numeric.contains($0) ? "n" : "")] }
            + (texts ? [["name": "text", "cls": false]] : [])
        let rows: [[String: Any]] = items.indices.map { i in
            let item = items[i]
            // Every cell says whether it has a drill-down: a key a cell lacks would be looked up
            // in the enclosing views.
            var cells: [[String: Any]] = [["text": item.id, "cls": false, "drill": false]] + keys.map { key -> [String: Any] in
                let (text, isNumber) = cell(item.values[key])
                return ["text": text, "cls": classAttribute(isNumber ? "n" : ""), "drill": false]
            }
            if texts { cells.append(["text": "", "cls": false, "drill": shown[i].map(ItemTexts.view) ?? false]) }
            return ["cells": cells]
        }
        var caption = "Items (\(items.count))"
        let withTexts = items.filter(ItemTexts.hasDrill).count
        if texts, shown.count < withTexts {
            caption += " — texts of \(shown.count) (\(chosenBy.map { $0 + " first" } ?? "in item order")) in the text column"
                + " (the page keeps about \(ItemTexts.pageBudget / 1024) KB of them); the items file has them all"
        }
        return ["caption": caption, "evaluation": evaluation, "columns": columns, "rows": rows]
    }
}
