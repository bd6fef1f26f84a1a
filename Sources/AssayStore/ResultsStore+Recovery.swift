import Foundation
import GRDB

extension ResultsStore {
    /// What ``recover()`` did.
    public struct Recovery: Sendable, Equatable {
        /// Reports of finished runs moved into place.
        public var completedReports = 0
        /// Pending files of runs whose process died before storing its results, removed.
        public var removedFiles = 0
        /// Runs whose pending reports were gone (their reports directory deleted, say): cleared.
        public var lostReports = 0

        public init(completedReports: Int = 0, removedFiles: Int = 0, lostReports: Int = 0) {
            self.completedReports = completedReports
            self.removedFiles = removedFiles
            self.lostReports = lostReports
        }
    }

    /// Which processes a pid belongs to: the host and the pid namespace (containers sharing a
    /// host name but not their process numbers differ here).
    static var processNamespace: String {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")) ?? ""
        return ProcessInfo.processInfo.hostName + " " + link
    }

    /// Moves the pending reports of `run` into place and clears them from the store; returns how
    /// many it moved. The run's own process overwrites what is there; a later command (`recovery`)
    /// never does — a final file that exists was moved already, or is a shared file such as JUnit's
    /// that a newer run wrote — and removes the pending one instead. A pending file that is gone
    /// with nothing in place (the reports directory deleted) is cleared all the same, counted in
    /// `lost`: the store keeps the results, and `assay report` draws from it.
    @discardableResult
    public func completeReports(run id: String, recovery: Bool = false) throws -> Int {
        let text = try read { db in try String.fetchOne(db, sql: "SELECT pending_reports FROM runs WHERE id = ?", arguments: [id]) }
        guard let text, let pairs = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)) else { return 0 }
        var moved = 0, lost = 0
        for pair in pairs where pair.count == 2 {
            let pending = pair[0], final = pair[1]
            if recovery, FileManager.default.fileExists(atPath: final) {
                try? FileManager.default.removeItem(atPath: pending)
            } else if rename(pending, final) == 0 {
                moved += 1
            } else if errno == ENOENT {
                if !FileManager.default.fileExists(atPath: final) { lost += 1 }
            } else {
                throw StoreError.writeFailed(path: final, reason: "cannot move the report \(pending) into place: \(String(cString: strerror(errno)))")
            }
        }
        try write { db in
            try db.execute(sql: "UPDATE runs SET pending_reports = NULL, reports_recovered = ? WHERE id = ?",
                           arguments: [recovery ? (lost > 0 ? "lost" : "moved") : nil, id])
        }
        return moved
    }

    /// Finishes what killed processes of this host left: the reports of runs whose results are
    /// stored but whose process died before moving them into place are moved now; the pending
    /// files of runs that died before storing their results (still `incomplete`, their process
    /// gone) are removed, and those runs are not looked at again. Runs of live processes, and of
    /// other hosts or containers, are left alone. A run that cannot be recovered does not stop the
    /// others. Safe to run from several processes at once.
    @discardableResult
    public func recover() throws -> Recovery {
        var recovery = Recovery()
        let namespace = Self.processNamespace
        let rows = try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, status, pid, pid_namespace, scratch_directories, pending_reports IS NOT NULL AS pending FROM runs
                WHERE pending_reports IS NOT NULL OR (status = 'incomplete' AND pid IS NOT NULL) ORDER BY started
                """)
        }
        for row in rows {
            let id: String = row["id"], pid: Int? = row["pid"], runNamespace: String? = row["pid_namespace"]
            // A run of another host or container: its files and process are not ours to judge.
            guard runNamespace == namespace, let pid else { continue }
            // Alive (or a pid reused by a live process): it may still commit or move its reports.
            guard kill(pid_t(pid), 0) != 0, errno == ESRCH else { continue }
            do {
                if row["pending"] as Bool {
                    recovery.completedReports += try completeReports(run: id, recovery: true)
                    let lost = try read { db in
                        try String.fetchOne(db, sql: "SELECT reports_recovered FROM runs WHERE id = ?", arguments: [id]) == "lost"
                    }
                    if lost { recovery.lostReports += 1 }
                    continue
                }
                // The process is gone, so the status read now is final: only a run that is still
                // incomplete after its process died lost its chance to commit.
                let status = try read { db in try String.fetchOne(db, sql: "SELECT status FROM runs WHERE id = ?", arguments: [id]) }
                guard status == "incomplete" else { continue }
                let directories = (row["scratch_directories"] as String?).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
                for directory in directories {
                    for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(".\(id).pending") {
                        if (try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))) != nil {
                            recovery.removedFiles += 1
                        }
                    }
                }
                try write { db in try db.execute(sql: "UPDATE runs SET pid = NULL WHERE id = ? AND status = 'incomplete'", arguments: [id]) }
            } catch {
                continue  // one run's trouble must not keep the others unrecovered
            }
        }
        return recovery
    }
}
