import AssaySuite
import Foundation

extension HTMLReport {
    /// One stored run, for the history page.
    public struct HistoryRun: Sendable {
        public var id: String
        public var started: String
        public var status: String

        public init(id: String, started: String, status: String) {
            self.id = id
            self.started = started
            self.status = status
        }
    }

    /// A metric's value in each run of the history, oldest first (nil where a run lacks it).
    public struct HistorySeries: Sendable {
        public var metric: String
        public var values: [Double?]

        public init(metric: String, values: [Double?]) {
            self.metric = metric
            self.values = values
        }
    }

    /// The trends page of a suite (`assay history --suite S --html OUT`): a sparkline per gated
    /// metric across the stored runs, oldest to newest, and the runs themselves.
    public static func renderHistory(suite: String, runs: [HistoryRun], series: [HistorySeries]) -> String {
        let title = "History — \(suite)"
        let metrics: [[String: Any]] = series.compactMap { s in
            let present = s.values.compactMap { $0 }.filter(\.isFinite)
            guard let first = present.first, let latest = present.last else { return nil }
            return ["name": s.metric, "spark": "data:image/svg+xml;base64," + Data(sparkline(s.values).utf8).base64EncodedString(),
                    "alt": "\(s.metric): " + s.values.map(format).joined(separator: ", "),
                    "first": GateJudge.format(first), "latest": GateJudge.format(latest), "delta": signed(latest - first), "count": String(present.count)]
        }
        let columns = [["name": "run", "cls": false], ["name": "started", "cls": false], ["name": "status", "cls": false]]
        let rows: [[String: Any]] = runs.reversed().map { run in
            ["cells": [["text": run.id, "cls": false], ["text": run.started, "cls": false], ["text": run.status, "cls": "status-\(run.status)"]]]
        }
        let view: [String: Any] = [
            "title": title, "meta": "\(runs.count) run(s), \(runs.first?.started ?? "") to \(runs.last?.started ?? "")",
            "metrics": metrics, "hasMetrics": !metrics.isEmpty,
            "runTable": ["caption": "Runs (newest first)", "evaluation": "runs", "columns": columns, "rows": rows] as [String: Any],
            "footer": "Each sparkline spans its own range, oldest run on the left; a gap is a run without the metric.",
        ]
        return HTMLTemplates.render(["title": title, "verdict": "history", "history": view])
    }

    /// A 160 × 32 SVG polyline of `values` (gaps where nil or not finite), the last point marked.
    static func sparkline(_ values: [Double?]) -> String {
        let width = 160.0, height = 32.0, pad = 3.0
        let finite = values.compactMap { $0 }.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        let span = high > low ? high - low : 1
        func x(_ i: Int) -> Double { values.count > 1 ? pad + Double(i) * (width - 2 * pad) / Double(values.count - 1) : width / 2 }
        func y(_ v: Double) -> Double { high > low ? height - pad - (v - low) / span * (height - 2 * pad) : height / 2 }
        var segments: [[String]] = [[]]
        var last: (Double, Double)?
        for (i, value) in values.enumerated() {
            guard let v = value, v.isFinite else { segments.append([]); continue }
            segments[segments.count - 1].append(String(format: "%.1f,%.1f", x(i), y(v)))
            last = (x(i), y(v))
        }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"160\" height=\"32\" viewBox=\"0 0 160 32\">"
        for points in segments where !points.isEmpty {
            if points.count == 1 {
                // A value between two gaps: a dot, or it would not show.
                let xy = points[0].split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"1.5\" fill=\"#0969da\"/>"
            } else {
                svg += "<polyline fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            }
        }
        if let (lx, ly) = last { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#0969da\"/>", lx, ly) }
        return svg + "</svg>"
    }
}
