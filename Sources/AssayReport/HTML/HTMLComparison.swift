import AssayEvaluators
import AssayStats
import AssaySuite
import Foundation

extension HTMLReport {
    /// One evaluation's items compared between two runs on one per-item value.
    struct ItemComparison {
        var evaluation: String
        var key: String
        var higherIsBetter: Bool
        var paired: PairedComparison.Result
        /// (id, A, B) of the items that changed, largest |B − A| first.
        var moved: [(id: String, a: Double, b: Double)]
        var count: Int
        /// The moved items' rows in A and B where both carry texts (``ItemTexts``), by id.
        var texts: [String: (a: ItemRow, b: ItemRow)] = [:]
    }

    /// Per-item scores whose direction is known, in order of preference.
    static let knownItemKeys: [(key: String, higherIsBetter: Bool)] = [
        ("sentence_bleu", true), ("sentence_chrf", true), ("f1", true), ("mean_kld", false),
    ]

    /// The per-item value an evaluation's comparison uses and its direction: the first known score
    /// both runs have as numbers, else a key both have that is also one of the evaluation's
    /// metrics (its direction); nil when neither — no direction, no verdict.
    static func itemKey(shared: Set<String>, metrics: [ReportDocument.Metric]) -> (key: String, higherIsBetter: Bool)? {
        if let known = knownItemKeys.first(where: { shared.contains($0.key) }) { return known }
        return metrics.first { shared.contains($0.name) }.map { ($0.name, $0.higher_is_better) }
    }

    /// Whether two runs' items of an evaluation are the same items: perplexity chunks (or
    /// documents) pair by number, so the tokenizer, context, mode, split and stride must agree —
    /// another tokenizer cuts the text into other chunks, and chunk 7 of A is not chunk 7 of B.
    static func sameItems(_ a: String, _ b: String) -> Bool {
        func parts(_ signature: String) -> [String: Substring] {
            var out: [String: Substring] = [:]
            for part in signature.split(separator: "|") {
                guard let colon = part.firstIndex(of: ":") else { continue }
                let key = String(part[..<colon])
                if ["tokenizer", "ctx", "mode", "split", "stride", "chunks"].contains(key) { out[key] = part[part.index(after: colon)...] }
            }
            return out
        }
        return parts(a) == parts(b)
    }

    static func itemComparison(_ evaluation: String, a: [ItemRow], b: [ItemRow], metrics: [ReportDocument.Metric], limit: Int) -> ItemComparison? {
        func numbers(_ rows: [ItemRow]) -> [String: [String: Double]] {
            var out: [String: [String: Double]] = [:]
            for row in rows { for (key, value) in row.values { if case let .number(v) = value, v.isFinite { out[key, default: [:]][row.id] = v } } }
            return out
        }
        let na = numbers(a), nb = numbers(b)
        guard let (key, higherIsBetter) = itemKey(shared: Set(na.keys).intersection(nb.keys), metrics: metrics),
              let va = na[key], let vb = nb[key] else { return nil }
        // Items paired by id, in A's order.
        let ids = a.map(\.id).filter { va[$0] != nil && vb[$0] != nil }
        guard !ids.isEmpty else { return nil }
        let reference = ids.map { va[$0]! }, candidate = ids.map { vb[$0]! }
        let paired = PairedComparison.compare(reference: reference, candidate: candidate, higherIsBetter: higherIsBetter)
        var moved: [(id: String, a: Double, b: Double)] = []
        for (index, id) in ids.enumerated() where reference[index] != candidate[index] {
            moved.append((id: id, a: reference[index], b: candidate[index]))
        }
        moved.sort { abs($0.b - $0.a) > abs($1.b - $1.a) }
        moved = Array(moved.prefix(limit))
        var comparison = ItemComparison(evaluation: evaluation, key: key, higherIsBetter: higherIsBetter, paired: paired, moved: moved, count: ids.count)
        let wanted = Set(moved.map(\.id))
        func rowsWithTexts(_ rows: [ItemRow]) -> [String: ItemRow] {
            Dictionary(rows.filter { wanted.contains($0.id) && ItemTexts.hypothesis($0) != nil }.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        let textsA = rowsWithTexts(a), textsB = rowsWithTexts(b)
        for id in wanted { if let rowA = textsA[id], let rowB = textsB[id] { comparison.texts[id] = (rowA, rowB) } }
        return comparison
    }

    /// The page comparing run B with run A (the reference): per-metric deltas with z tests, and per
    /// evaluation a paired test over its items and the items that moved most.
    public static func renderComparison(a: Run, b: Run, comparison: RunComparison, movedItems: Int = 50) -> String {
        let title = "Comparison — \(a.document.suite): \(b.document.run_id) vs \(a.document.run_id)"
        // Evaluations whose items changed first, the most significant first; then the rest in suite order.
        let compared: [ItemComparison] = a.document.evaluations.compactMap { e in
            guard let rowsA = a.items[e.id], let rowsB = b.items[e.id],
                  let other = b.document.evaluations.first(where: { $0.id == e.id }), sameItems(e.signature, other.signature) else { return nil }
            return itemComparison(e.id, a: rowsA, b: rowsB, metrics: e.metrics, limit: movedItems)
        }
        let changed = compared.filter { !$0.moved.isEmpty }.sorted { $0.paired.pValue < $1.paired.pValue }
        let evaluations = (changed + compared.filter { $0.moved.isEmpty }).map(itemView)
        let view: [String: Any] = [
            "title": title, "runA": a.document.run_id, "runB": b.document.run_id, "startedA": a.document.started, "startedB": b.document.started,
            "verdictA": a.document.verdict, "verdictB": b.document.verdict,
            "labelA": verdictLabel(a.document.verdict), "labelB": verdictLabel(b.document.verdict),
            "metricTable": metricTable(comparison), "evaluations": evaluations,
            "footer": "Δ = B − A. z = Δ / √(seA² + seB²), significant when |z| > 1.96. Item tests: paired bootstrap 95 % interval of the mean Δ "
                + "and a paired approximate-randomization p-value (1000 trials, seeded).",
        ]
        return HTMLTemplates.render(["title": title, "verdict": b.document.verdict, "comparison": view])
    }

    static func metricTable(_ comparison: RunComparison) -> [String: Any] {
        let columns = [("metric", ""), ("A", "n"), ("B", "n"), ("delta", "n"), ("ratio", "n"), ("z", "n"), ("change", "")].map { ["name": $0.0, "cls": classAttribute($0.1)] }
        let rows: [[String: Any]] = comparison.metrics.map { row in
            let changeClass = row.change == "better" ? "better" : (row.change == "worse" ? "worse" : "")
            return ["cells": [["text": row.metric, "cls": false], ["text": format(row.a), "cls": "n"], ["text": format(row.b), "cls": "n"],
                              ["text": signed(row.delta), "cls": "n"], ["text": row.ratio.map { GateJudge.format($0) + "×" } ?? "—", "cls": "n"],
                              ["text": row.z.map { signed($0) } ?? "—", "cls": "n"], ["text": row.change, "cls": classAttribute(changeClass)]]]
        }
        return ["caption": "\(rows.count) metrics (Δ = B − A)", "evaluation": "metrics", "columns": columns, "rows": rows]
    }

    static func itemView(_ c: ItemComparison) -> [String: Any] {
        let p = c.paired
        let summary = "\(c.count) paired items on \(c.key) (\(c.higherIsBetter ? "higher" : "lower") is better): mean A \(GateJudge.format(p.referenceMean)), "
            + "mean B \(GateJudge.format(p.candidateMean)), Δ \(signed(p.delta)) [\(GateJudge.format(p.deltaLow)), \(GateJudge.format(p.deltaHigh))], "
            + "p = \(GateJudge.format(p.pValue)) —" + (c.moved.isEmpty ? " no item changed;" : "")
        // The moved items' texts: A's and B's hypotheses against the references.
        let texts = !c.texts.isEmpty
        let columns = ([("id", ""), ("a", "n"), ("b", "n"), ("delta", "n")] + (texts ? [("text", "")] : [])).map { ["name": $0.0, "cls": classAttribute($0.1)] }
        let rows: [[String: Any]] = c.moved.map { m in
            var cells: [[String: Any]] = [["text": m.id, "cls": false], ["text": GateJudge.format(m.a), "cls": "n"], ["text": GateJudge.format(m.b), "cls": "n"],
                                          ["text": signed(m.b - m.a), "cls": "n"]]
            if texts {
                let drill: Any = c.texts[m.id].map { ItemTexts.view(ItemTexts.lines(comparing: $0.a, with: $0.b)) } ?? false
                cells.append(["text": "", "cls": false, "drill": drill])
            }
            return ["cells": cells]
        }
        return ["id": c.evaluation, "anchor": anchor(c.evaluation), "summary": summary, "verdict": p.verdict.rawValue,
                "verdictClass": p.verdict == .significantlyBetter ? "better" : (p.verdict == .significantlyWorse ? "worse" : ""),
                "itemTable": rows.isEmpty ? false : ["caption": "Items that moved most (\(c.moved.count) shown): \(c.key) in A and B", "evaluation": c.evaluation,
                                                     "columns": columns, "rows": rows] as [String: Any]]
    }
}
