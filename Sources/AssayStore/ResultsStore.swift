import AssayCore
import AssayEvaluators
import AssaySuite
import Foundation
import GRDB

/// The SQLite results store (DESIGN §7): runs, evaluations, metrics and per-item statistics.
///
/// WAL mode, named append-only migrations. A run is inserted as `incomplete` when it starts and
/// completed in one transaction at the end, so a killed process leaves an `incomplete` run and
/// never a half-visible one; concurrent writers wait on SQLite's lock instead of failing.
public final class ResultsStore: Sendable {
    let pool: DatabasePool
    /// The database file.
    public let url: URL

    /// Opens (creating if needed) the store at `url` and applies pending migrations.
    /// - Throws: ``StoreError`` when the file cannot be opened or is not an Assay store.
    public init(url: URL) throws {
        self.url = url
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            pool = try Self.openWithRetry(url)
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: url.path, reason: error.message ?? error.description)
        } catch {
            throw StoreError.cannotOpen(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Opens the pool and migrates. Switching a new file to WAL and migrating it take locks that
    /// SQLite's busy timeout does not always cover when two processes create the store at once, so
    /// busy/locked errors (and a migration another process applied first) are retried for up to a minute.
    static func openWithRetry(_ url: URL) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.label = "assay-store"
        let deadline = Date().addingTimeInterval(60)
        while true {
            do {
                let pool = try DatabasePool(path: url.path, configuration: configuration)
                try migrator.migrate(pool)
                return pool
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
                || (error.resultCode == .SQLITE_ERROR && ["already exists", "duplicate column"].contains { (error.message ?? "").contains($0) }) {
                // "already exists" (a table) or "duplicate column" (an added column): another process
                // applied the same migration between our check and our write; the next attempt sees it as applied.
                if Date() > deadline { throw error }
                Thread.sleep(forTimeInterval: Double.random(in: 0.02...0.1))
            }
        }
    }

    /// The default location: `$ASSAY_STORE`, else `.assay/assay.sqlite` in the working directory.
    public static func defaultURL(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        if let path = environment["ASSAY_STORE"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: ".assay/assay.sqlite")
    }

    /// Named, append-only migrations: never edit one that has shipped; add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1 runs, evaluations, metrics, items") { db in
            try db.create(table: "runs") { t in
                t.primaryKey("id", .text)
                t.column("suite", .text).notNull().indexed()
                t.column("suite_hash", .text).notNull()
                t.column("suite_file", .text).notNull()
                t.column("status", .text).notNull()
                t.column("started", .text).notNull()
                t.column("finished", .text)
                t.column("host", .text).notNull()
                t.column("git_commit", .text)
                t.column("assay_version", .text).notNull()
                t.column("models", .text).notNull()
                t.column("baseline_run_id", .text)
                t.column("report_path", .text)
            }
            try db.create(table: "evaluations") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("id", .text).notNull()
                t.column("evaluator", .text).notNull()
                t.column("status", .text).notNull()
                t.column("signature", .text).notNull()
                t.column("error", .text)
                t.column("seconds", .double).notNull()
                t.primaryKey(["run_id", "id"])
            }
            try db.create(table: "metrics") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("evaluation_id", .text).notNull()
                t.column("name", .text).notNull()
                t.column("value", .double)
                t.column("stderr", .double)
                t.column("ci_low", .double)
                t.column("ci_high", .double)
                t.column("unit", .text)
                t.column("higher_is_better", .boolean).notNull()
                t.primaryKey(["run_id", "evaluation_id", "name"])
            }
            try db.create(table: "items") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("evaluation_id", .text).notNull()
                t.column("item_id", .text).notNull()
                t.column("stats", .text).notNull()
                t.primaryKey(["run_id", "evaluation_id", "item_id"])
            }
        }
        registerRatingMigrations(&migrator)
        migrator.registerMigration("v3 evaluation error location and hint") { db in
            // An evaluation's error keeps its parts: `error` the message, and where and how to fix it.
            try db.alter(table: "evaluations") { t in
                t.add(column: "error_location", .text)
                t.add(column: "error_hint", .text)
            }
        }
        migrator.registerMigration("v4 reports after the commit") { db in
            // The reports a finished run has written but not yet moved into place ([[pending, final]]),
            // where an unfinished run keeps its pending files, and which process ran it.
            try db.alter(table: "runs") { t in
                t.add(column: "pending_reports", .text)
                t.add(column: "scratch_directories", .text)
                t.add(column: "pid", .integer)
                t.add(column: "pid_namespace", .text)
                t.add(column: "reports_recovered", .text)
            }
        }
        migrator.registerMigration("v5 item cache") { db in
            // Per-item results as they finish, by a key naming the evaluator, its options, the
            // model, the item's content and the assay version (EvaluationItemCache): `--resume`.
            try db.create(table: "item_cache") { t in
                t.primaryKey("key", .text)
                t.column("item_id", .text).notNull()
                t.column("stats", .text).notNull()
                t.column("created", .text).notNull()
            }
        }
        migrator.registerMigration("v6 evaluation cache") { db in
            // Whole results by a key naming everything they depend on (SuiteRunner.reuseKey):
            // `--reuse`. `result` is the EvaluationResult as JSON; `run_id` the run that produced it.
            try db.create(table: "evaluation_cache") { t in
                t.primaryKey("key", .text)
                t.column("run_id", .text).notNull()
                t.column("result", .text).notNull()
                t.column("created", .text).notNull()
            }
        }
        migrator.registerMigration("v7 embedding cache") { db in
            // BERTScore reference embeddings by a key naming the encoder's weights, layer, build and
            // text (BERTScorer.ReferenceCache): token ids (Int32) and unit vectors (Float32), little-endian.
            try db.create(table: "embedding_cache") { t in
                t.primaryKey("key", .text)
                t.column("tokens", .blob).notNull()
                t.column("vectors", .blob).notNull()
                t.column("dimension", .integer).notNull()
                t.column("created", .text).notNull()
            }
        }
        return migrator
    }

    /// Records that a run started (status `incomplete`), committed at once.
    /// - Parameter scratchDirectories: where the run will write its pending reports (for
    ///   ``recover()`` to remove them if the process dies before its results are stored).
    public func begin(runID: String, suite: Suite, started: Date, host: String, gitCommit: String?, models: [ModelInfo],
                      scratchDirectories: [String] = []) throws {
        let modelsJSON = String(decoding: try JSONEncoder().encode(models), as: UTF8.self)
        let scratch = String(decoding: try JSONEncoder().encode(scratchDirectories), as: UTF8.self)
        try write { db in
            try db.execute(sql: """
                INSERT INTO runs (id, suite, suite_hash, suite_file, status, started, host, git_commit, assay_version, models,
                                  scratch_directories, pid, pid_namespace)
                VALUES (?, ?, ?, ?, 'incomplete', ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [runID, suite.name, suite.contentHash, suite.file.path, Self.timestamp(started), host, gitCommit,
                                 AssayVersionString.current, modelsJSON, scratch, Int(getpid()), Self.processNamespace])
        }
    }

    /// Stores a run's results and final status in one transaction, with the reports it has
    /// written under pending names (`pending`: pending → final paths) and still has to move into
    /// place: the store commits first, then the reports appear (``completeReports(run:)``); a
    /// process killed in between leaves them for ``recover()``.
    public func finish(_ outcome: RunOutcome, reportPath: String?, pending: [(pending: String, final: String)] = []) throws {
        let pendingJSON = pending.isEmpty ? nil : String(decoding: try JSONEncoder().encode(pending.map { [$0.pending, $0.final] }), as: UTF8.self)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try write { db in
            for e in outcome.evaluations {
                try db.execute(sql: """
                    INSERT INTO evaluations (run_id, id, evaluator, status, signature, error, error_location, error_hint, seconds)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [outcome.runID, e.id, e.evaluator, e.status.rawValue, e.signature, e.error?.message, e.error?.location,
                                     e.error?.hint, e.seconds])
                for m in e.metrics {
                    try db.execute(sql: """
                        INSERT INTO metrics (run_id, evaluation_id, name, value, stderr, ci_low, ci_high, unit, higher_is_better)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [outcome.runID, e.id, m.name, finite(m.value), finite(m.stderr), finite(m.ciLow), finite(m.ciHigh),
                                         m.unit, m.higherIsBetter])
                }
                let statement = try db.makeStatement(sql: "INSERT INTO items (run_id, evaluation_id, item_id, stats) VALUES (?, ?, ?, ?)")
                for item in e.items.map({ $0.maskingSecrets() }) {
                    let stats = String(decoding: try encoder.encode(item.values), as: UTF8.self)
                    try statement.execute(arguments: [outcome.runID, e.id, item.id, stats])
                }
            }
            try db.execute(sql: """
                UPDATE runs SET status = ?, finished = ?, baseline_run_id = ?, report_path = ?, pending_reports = ? WHERE id = ?
                """, arguments: [outcome.verdict.rawValue, Self.timestamp(outcome.finished), outcome.baselineRunID, reportPath, pendingJSON,
                                 outcome.runID])
        }
    }

    func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }

    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            return try pool.write(updates)
        } catch let error as DatabaseError {
            throw StoreError.writeFailed(path: url.path, reason: error.message ?? error.description)
        }
    }

    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do {
            return try pool.read(value)
        } catch let error as DatabaseError {
            throw StoreError.readFailed(path: url.path, reason: error.message ?? error.description)
        }
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Errors of the results store.
public enum StoreError: AssayError, Equatable {
    case cannotOpen(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case readFailed(path: String, reason: String)
    case unknownRun(String, suggestion: String?)
    /// A run id prefix that more than one run begins with (`matches`: the first few).
    case ambiguousRun(String, matches: [String])
    case noBaseline(suite: String)

    public var errorDescription: String? {
        switch self {
        case let .cannotOpen(path, reason): return "cannot open the results store \(path): \(reason)"
        case let .writeFailed(path, reason): return "cannot write to the results store \(path): \(reason)"
        case let .readFailed(path, reason): return "cannot read the results store \(path): \(reason)"
        case let .unknownRun(id, _): return "no run '\(id)' in the store"
        case let .ambiguousRun(id, matches): return "'\(id)' begins several runs' ids (\(matches.joined(separator: ", ")))"
        case let .noBaseline(suite): return "no completed run of suite '\(suite)' to use as baseline"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .cannotOpen: return "check the path (--store or ASSAY_STORE) and its permissions; it must be an SQLite file written by Assay"
        case .writeFailed, .readFailed: return "check disk space and permissions; another process may hold a lock"
        case let .unknownRun(_, suggestion):
            return suggestion.map { "did you mean '\($0)'? (see `assay history`)" } ?? "list runs with `assay history`"
        case .ambiguousRun: return "give more of the id (a prefix only one run's id begins with), or the whole id from `assay history`"
        case .noBaseline: return "run the suite once without --baseline to record one, or pass a run id"
        }
    }
}
