import Foundation
import GRDB

extension ResultsStore {
    /// What ``recover()`` did.
    public struct Recovery: Sendable, Equatable {
        /// Reports of finished runs moved into place.
        public var completedReports = 0
        /// Pending files of runs whose process died before storing its results, removed.
        public var removedFiles = 0

        public init(completedReports: Int = 0, removedFiles: Int = 0) {
            self.completedReports = completedReports
            self.removedFiles = removedFiles
        }
    }

    /// Moves the pending reports of `run` into place and clears them from the store. A pending
    /// file that is gone while its final file exists was moved by another process: done too.
    /// - Throws: ``StoreError`` when a pending file can be neither moved nor found in place.
    @discardableResult
    public func completeReports(run id: String) throws -> Int {
        let text = try read { db in try String.fetchOne(db, sql: "SELECT pending_reports FROM runs WHERE id = ?", arguments: [id]) }
        guard let text, let pairs = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)) else { return 0 }
        var moved = 0
        for pair in pairs where pair.count == 2 {
            if rename(pair[0], pair[1]) == 0 {
                moved += 1
            } else if errno != ENOENT || !FileManager.default.fileExists(atPath: pair[1]) {
                throw StoreError.writeFailed(path: pair[1], reason: "cannot move the report \(pair[0]) into place: \(String(cString: strerror(errno)))")
            }
        }
        try write { db in try db.execute(sql: "UPDATE runs SET pending_reports = NULL WHERE id = ?", arguments: [id]) }
        return moved
    }

    /// Finishes what killed processes left: the reports of runs whose results are stored but whose
    /// process died before moving them into place are moved now; the pending files of runs that
    /// died before storing their results (`incomplete`, their process gone from this host) are
    /// removed. Runs of live processes are left alone. Safe to run from several processes at once.
    @discardableResult
    public func recover() throws -> Recovery {
        var recovery = Recovery()
        let pendingRuns = try read { db in try String.fetchAll(db, sql: "SELECT id FROM runs WHERE pending_reports IS NOT NULL") }
        for id in pendingRuns { recovery.completedReports += try completeReports(run: id) }
        let host = ProcessInfo.processInfo.hostName
        let dead = try read { db in
            try Row.fetchAll(db, sql: "SELECT id, host, pid, scratch_directories FROM runs WHERE status = 'incomplete' AND pid IS NOT NULL")
        }
        for row in dead {
            let id: String = row["id"], runHost: String = row["host"], pid: Int = row["pid"]
            guard runHost == host, kill(pid_t(pid), 0) != 0, errno == ESRCH else { continue }
            let directories = (row["scratch_directories"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
            for directory in directories {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".\(id).pending") {
                    if (try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))) != nil {
                        recovery.removedFiles += 1
                    }
                }
            }
        }
        return recovery
    }
}
