import AssayProcedures
import Foundation

/// `assay bench`'s text renderings: llama-bench's Markdown table with latency columns, the speed
/// ratios of `--vs`, and CSV.
public enum BenchTable {
    static func size(_ bytes: Int) -> String { String(format: "%.2f MiB", Double(bytes) / 1_048_576) }
    static func params(_ n: Int) -> String { n >= 1_000_000_000 ? String(format: "%.2f B", Double(n) / 1e9) : String(format: "%.2f M", Double(n) / 1e6) }

    /// llama-bench's Markdown table plus latency columns.
    public static func markdown(_ rows: [ThroughputRow]) -> String {
        var lines = ["| model | size | params | backend | threads | test | t/s | TTFT ms | ITL p50/p90/p99 ms | peak RSS |",
                     "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in rows {
            var itl = ""
            if let p50 = r.interTokenP50, let p90 = r.interTokenP90, let p99 = r.interTokenP99 { itl = String(format: "%.2f / %.2f / %.2f", p50, p90, p99) }
            let ttft = r.timeToFirstTokenMilliseconds.map { String(format: "%.2f", $0) } ?? ""
            lines.append("| \(MarkdownEscaping.cell(r.modelFilename)) (\(r.modelType)) | \(size(r.modelSize)) | \(params(r.modelParameters)) | OpenBLAS (\(r.openblasCore)) | \(r.threads) | \(r.test) | "
                + String(format: "%.2f ± %.2f", r.averageTokensPerSecond, r.stddevTokensPerSecond) + " | \(ttft) | \(itl) | \(size(r.peakRSSBytes)) |")
        }
        return lines.joined(separator: "\n")
    }

    /// The `--vs` table: ratio of mean tokens/s with its interval and a verdict.
    public static func comparisonMarkdown(_ comparisons: [ThroughputComparison], a: String, b: String) -> String {
        var lines = ["Speed ratio \(a) / \(b) (mean tokens/s, 95 % bootstrap interval over repetitions):", "",
                     "| test | threads | ratio | 95 % CI | verdict |", "| ---: | ---: | ---: | --- | --- |"]
        for c in comparisons {
            let verdict = c.low > 1 ? "\(a) faster" : c.high < 1 ? "\(b) faster" : "no significant difference"
            lines.append("| \(c.test) | \(c.threads) | " + String(format: "%.3f | [%.3f, %.3f]", c.ratio, c.low, c.high) + " | \(verdict) |")
        }
        return lines.joined(separator: "\n")
    }

    /// CSV with ``ThroughputRow/csvColumns``; absent latencies are empty fields.
    public static func csv(_ rows: [ThroughputRow]) -> String {
        func field(_ text: String) -> String {
            text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        func optional(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }
        let lines = rows.map { r -> String in
            let values: [String] = [
                r.buildCommit, r.assayVersion, r.cpuInfo, r.backends, r.openblasCore, r.modelFilename, r.modelType, "\(r.modelSize)",
                "\(r.modelParameters)", "\(r.threads)", "\(r.prompt)", "\(r.generate)", r.test, "\(r.repetitions)", "\(r.warmup)",
                "\(r.averageNanoseconds)", "\(r.stddevNanoseconds)", "\(r.averageTokensPerSecond)", "\(r.stddevTokensPerSecond)",
                "\(r.peakRSSBytes)", "\(r.harnessOverheadPercent)", optional(r.timeToFirstTokenMilliseconds),
                optional(r.interTokenP50), optional(r.interTokenP90), optional(r.interTokenP99),
            ]
            return values.map(field).joined(separator: ",")
        }
        return ([ThroughputRow.csvColumns.joined(separator: ",")] + lines).joined(separator: "\n")
    }
}
