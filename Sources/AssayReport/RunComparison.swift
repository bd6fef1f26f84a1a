import AssaySuite
import Foundation

/// `assay compare`: the metrics of two stored runs side by side, with the change, the ratio and,
/// where both carry a standard error, a z test (|z| > 1.96 is significant).
public struct RunComparison: Sendable, Encodable {
    /// One metric's value in either run (nil when the run lacks it).
    public struct Side: Sendable {
        public var value: Double?
        public var stderr: Double?
        public var higherIsBetter: Bool

        public init(value: Double?, stderr: Double?, higherIsBetter: Bool) {
            self.value = value
            self.stderr = stderr
            self.higherIsBetter = higherIsBetter
        }
    }

    /// One metric compared.
    public struct Row: Sendable, Encodable, Equatable {
        public var metric: String
        public var a: Double?
        public var b: Double?
        public var delta: Double?
        public var change: String
        public var ratio: Double?
        public var z: Double?
        public var significance: String?
    }

    public var runA: String
    public var runB: String
    public var metrics: [Row]

    enum CodingKeys: String, CodingKey { case runA = "run_a", runB = "run_b", metrics }

    /// Compares `metrics` (`<evaluation>.<name>` in A's order, then those only in B).
    public init(runA: String, runB: String, metrics: [(key: String, a: Side?, b: Side?)]) {
        self.runA = runA
        self.runB = runB
        self.metrics = metrics.map { key, ma, mb in
            let delta = ma?.value.flatMap { va in mb?.value.map { $0 - va } }
            var change = "—"
            if let delta {
                let higher = (ma ?? mb)?.higherIsBetter ?? true
                change = delta == 0 ? "same" : ((delta > 0) == higher ? "better" : "worse")
            } else if ma == nil { change = "only in B" } else if mb == nil { change = "only in A" }
            var row = Row(metric: key, a: ma?.value, b: mb?.value, delta: delta, change: change)
            if let va = ma?.value, let vb = mb?.value, va != 0 { row.ratio = vb / va }
            if let delta, let sa = ma?.stderr, let sb = mb?.stderr, sa.isFinite, sb.isFinite, sa + sb > 0 {
                let z = delta / (sa * sa + sb * sb).squareRoot()
                row.z = z
                row.significance = abs(z) > 1.96 ? "significant (|z| > 1.96)" : "not significant"
                if abs(z) <= 1.96 { row.change = "no significant change" }
            }
            return row
        }
    }

    /// A Markdown table, a metric per row.
    public var markdown: String {
        func f(_ v: Double?) -> String { v.map(GateJudge.format) ?? "—" }
        func signed(_ v: Double?) -> String { v.map { ($0 >= 0 ? "+" : "") + GateJudge.format($0) } ?? "—" }
        var lines = ["| metric | A \(runA) | B \(runB) | Δ (B − A) | B / A | z | change |", "|---|---:|---:|---:|---:|---:|---|"]
        for row in metrics {
            let ratio = row.ratio.map { String(format: "%.3f×", $0) } ?? "—", z = row.z.map { String(format: "%+.2f", $0) } ?? "—"
            lines.append("| \(MarkdownEscaping.cell(row.metric)) | \(f(row.a)) | \(f(row.b)) | \(signed(row.delta)) | \(ratio) | \(z) | \(row.change) |")
        }
        return lines.joined(separator: "\n")
    }
}
