import AssayMetrics
import Foundation

/// The Markdown of `assay bench-serve`: a metric per row, a run per column.
public enum ServingTable {
    /// One column per run: (label, metrics, where the output token counts came from).
    public static func markdown(_ runs: [(String, ServingMetrics, String)], endpoint: String, model: String) -> String {
        func number(_ value: Double?, _ format: String = "%.2f") -> String { value.map { String(format: format, $0) } ?? "—" }
        var rows: [(String, [String])] = [
            ("Successful requests", runs.map { "\($0.1.completed)" }),
            ("Failed requests", runs.map { "\($0.1.failed)" }),
            ("Benchmark duration (s)", runs.map { number($0.1.durationSeconds) }),
            ("Total input tokens", runs.map { "\($0.1.totalInputTokens)" }),
            ("Total generated tokens", runs.map { "\($0.1.totalOutputTokens) (\($0.2))" }),
            ("Request throughput (req/s)", runs.map { number($0.1.requestThroughput) }),
            ("Request goodput (req/s)", runs.map { number($0.1.requestGoodput) }),
            ("Output token throughput (tok/s)", runs.map { number($0.1.outputThroughput) }),
            ("Total token throughput (tok/s)", runs.map { number($0.1.totalTokenThroughput) }),
        ]
        for (name, path) in [("TTFT", \ServingMetrics.ttft), ("TPOT", \ServingMetrics.tpot), ("ITL", \ServingMetrics.itl), ("E2EL", \ServingMetrics.e2el)] {
            rows.append(("Mean \(name) (ms)", runs.map { number($0.1[keyPath: path]?.mean) }))
            rows.append(("Median \(name) (ms)", runs.map { number($0.1[keyPath: path]?.median) }))
            rows.append(("Std \(name) (ms)", runs.map { number($0.1[keyPath: path]?.std) }))
            for (index, p) in (runs.first?.1.percentiles ?? []).enumerated() {
                rows.append(("P\(ServingMetrics.percentileName(p)) \(name) (ms)", runs.map { number($0.1[keyPath: path]?.percentiles[index].1) }))
            }
        }
        var lines = ["Serving benchmark: \(model) at \(endpoint)", "",
                     "| metric | " + runs.map(\.0).joined(separator: " | ") + " |",
                     "| --- |" + String(repeating: " ---: |", count: runs.count)]
        for (name, values) in rows { lines.append("| \(name) | " + values.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }
}
