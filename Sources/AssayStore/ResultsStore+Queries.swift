import AssayCore
import AssayEvaluators
import AssayMetrics
import AssaySuite
import Foundation
import GRDB

/// The version string recorded with each run.
enum AssayVersionString {
    static var current: String { AssayVersion.current }
}

/// A run as listed by `assay history`.
public struct RunSummary: Sendable, Equatable, Codable {
    public var id: String
    public var suite: String
    public var status: String
    public var started: String
    public var finished: String?
    public var host: String
    public var gitCommit: String?
}

/// A stored metric value.
public struct StoredMetric: Sendable, Equatable, Codable {
    public var evaluation: String
    public var name: String
    public var value: Double?
    public var stderr: Double? = nil
    public var ciLow: Double?
    public var ciHigh: Double?
    public var unit: String?
    public var higherIsBetter: Bool

    /// `<evaluation>.<name>`.
    public var key: String { "\(evaluation).\(name)" }
}

/// A stored evaluation.
public struct StoredEvaluation: Sendable, Equatable, Codable {
    public var id: String
    public var evaluator: String
    public var status: String
    public var signature: String
    /// What went wrong (without the location), where, and the hint.
    public var error: String?
    public var errorLocation: String? = nil
    public var errorHint: String? = nil
}

extension ResultsStore {
    /// Runs, newest first, optionally of one suite.
    public func history(suite: String? = nil, limit: Int = 50) throws -> [RunSummary] {
        try read { db in
            var sql = "SELECT id, suite, status, started, finished, host, git_commit FROM runs"
            var arguments: StatementArguments = []
            if let suite { sql += " WHERE suite = ?"; arguments += [suite] }
            sql += " ORDER BY started DESC, id DESC LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.summary)
        }
    }

    /// The run `id` (a unique prefix is enough).
    /// - Throws: ``StoreError/unknownRun(_:suggestion:)``, ``StoreError/ambiguousRun(_:matches:)``.
    public func run(_ id: String) throws -> RunSummary {
        try read { db in
            if let exact = try Row.fetchOne(db, sql: "SELECT id, suite, status, started, finished, host, git_commit FROM runs WHERE id = ?",
                                            arguments: [id]) {
                return Self.summary(exact)
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id, suite, status, started, finished, host, git_commit FROM runs WHERE id LIKE ? ESCAPE '\\' ORDER BY id LIMIT 4",
                                        arguments: [id.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                                            .replacingOccurrences(of: "_", with: "\\_") + "%"])
            if rows.count == 1 { return Self.summary(rows[0]) }
            if rows.count > 1 { throw StoreError.ambiguousRun(id, matches: rows.prefix(3).map { $0["id"] as String } + (rows.count > 3 ? ["…"] : [])) }
            let ids = try String.fetchAll(db, sql: "SELECT id FROM runs ORDER BY started DESC LIMIT 200")
            throw StoreError.unknownRun(id, suggestion: Suggestions.closest(to: id, in: ids))
        }
    }

    /// Metric values of a run, in evaluation and insertion order.
    public func metrics(run id: String) throws -> [StoredMetric] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT evaluation_id, name, value, stderr, ci_low, ci_high, unit, higher_is_better FROM metrics WHERE run_id = ? ORDER BY rowid
                """, arguments: [id]).map {
                StoredMetric(evaluation: $0["evaluation_id"], name: $0["name"], value: $0["value"], stderr: $0["stderr"], ciLow: $0["ci_low"],
                             ciHigh: $0["ci_high"], unit: $0["unit"], higherIsBetter: $0["higher_is_better"])
            }
        }
    }

    /// Evaluations of a run.
    public func evaluations(run id: String) throws -> [StoredEvaluation] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, evaluator, status, signature, error, error_location, error_hint FROM evaluations WHERE run_id = ? ORDER BY rowid",
                             arguments: [id]).map {
                StoredEvaluation(id: $0["id"], evaluator: $0["evaluator"], status: $0["status"], signature: $0["signature"], error: $0["error"],
                                 errorLocation: $0["error_location"], errorHint: $0["error_hint"])
            }
        }
    }

    /// Number of per-item rows stored for a run.
    public func itemCount(run id: String) throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM items WHERE run_id = ?", arguments: [id]) ?? 0 }
    }

    /// The baseline for gates: `latest` = the newest completed (pass or fail) run of `suite`,
    /// otherwise the run with that id.
    /// - Throws: ``StoreError`` when there is no such run.
    public func baseline(_ selector: String, suite: String, excluding: String? = nil) throws -> Baseline {
        let runID: String
        if selector == "latest" {
            let found = try read { db in
                try String.fetchOne(db, sql: """
                    SELECT id FROM runs WHERE suite = ? AND status IN ('pass', 'fail') AND id != ? ORDER BY started DESC, id DESC LIMIT 1
                    """, arguments: [suite, excluding ?? ""])
            }
            guard let found else { throw StoreError.noBaseline(suite: suite) }
            runID = found
        } else {
            runID = try run(selector).id
        }
        var values: [String: Double] = [:]
        for metric in try metrics(run: runID) { if let v = metric.value { values[metric.key] = v } }
        return Baseline(runID: runID, values: values)
    }

    static func summary(_ row: Row) -> RunSummary {
        RunSummary(id: row["id"], suite: row["suite"], status: row["status"], started: row["started"], finished: row["finished"],
                   host: row["host"], gitCommit: row["git_commit"])
    }
}

extension ResultsStore {
    /// Where the run's JSON report was written (nil while it runs, or when it wrote none).
    public func reportPath(run id: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT report_path FROM runs WHERE id = ?", arguments: [id]) }
    }

    /// The run's per-item rows by evaluation id, in the order they were recorded.
    /// - Throws: ``StoreError`` when a stored row is not the JSON object the store writes.
    public func items(run id: String) throws -> [String: [ItemRow]] {
        try read { db in
            var items: [String: [ItemRow]] = [:]
            let decoder = JSONDecoder()
            for row in try Row.fetchAll(db, sql: "SELECT evaluation_id, item_id, stats FROM items WHERE run_id = ? ORDER BY rowid", arguments: [id]) {
                let evaluation: String = row["evaluation_id"], item: String = row["item_id"], stats: String = row["stats"]
                guard let values = try? decoder.decode([String: JSONValue].self, from: Data(stats.utf8)) else {
                    throw StoreError.readFailed(path: url.path, reason: "item '\(item)' of evaluation '\(evaluation)' in run \(id) is not a JSON object")
                }
                items[evaluation, default: []].append(ItemRow(id: item, values: values))
            }
            return items
        }
    }
}
