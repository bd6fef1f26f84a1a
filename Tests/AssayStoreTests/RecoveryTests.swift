import AssayEvaluators
import AssayStore
import AssaySuite
import AssayTestSupport
import Foundation
import GRDB
import Testing

/// What a SIGKILL leaves between the store's commit and the reports' renames, and before the
/// commit, and what the next opening of the store does with it (scripts/soak.sh does the same at
/// random moments, hundreds of times).
struct RecoveryTests {
    /// A process id that has certainly ended.
    static func deadPID() throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return Int(process.processIdentifier)
    }

    @Test func reportsOfAFinishedRunMoveIntoPlaceAndAKilledRunsFilesGo() async throws {
        let directory = try TestEnvironment.temporaryDirectory()
        let url = directory.appendingPathComponent("assay.sqlite")
        let store = try ResultsStore(url: url)
        let suite = try ResultsStoreTests.suite(in: directory)
        let reports = directory.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)

        // Killed after the commit: the store names pending files that are not in place yet.
        let finished = "20260101T000000Z-aaaaaa"
        try store.begin(runID: finished, suite: suite, started: Date(), host: ProcessInfo.processInfo.hostName, gitCommit: nil, models: [],
                        scratchDirectories: [reports.path])
        let outcome = await SuiteRunner().run(suite, identity: .init(runID: finished, host: "h", gitCommit: nil), models: [], baseline: nil)
        let final = reports.appendingPathComponent("\(finished).json"), pending = reports.appendingPathComponent(".\(finished).json.\(finished).pending")
        try Data("{}".utf8).write(to: pending)
        // A shared JUnit file a newer run has written since: recovery must not put the old one over it.
        let junit = reports.appendingPathComponent("junit.xml"), junitPending = reports.appendingPathComponent(".junit.xml.\(finished).pending")
        try Data("newer".utf8).write(to: junit)
        try Data("older".utf8).write(to: junitPending)
        try store.finish(outcome, reportPath: final.path, pending: [(pending.path, final.path), (junitPending.path, junit.path)])

        // And a finished run whose reports directory is gone.
        let vanished = "20260101T000003Z-dddddd"
        try store.begin(runID: vanished, suite: suite, started: Date(), host: "h", gitCommit: nil, models: [])
        var gone = await SuiteRunner().run(suite, identity: .init(runID: vanished, host: "h", gitCommit: nil), models: [], baseline: nil)
        gone.runID = vanished
        try store.finish(gone, reportPath: "/nonexistent/\(vanished).json", pending: [("/nonexistent/.x.\(vanished).pending", "/nonexistent/x")])

        // Killed before the commit: an incomplete run of a dead process with a pending file.
        let killed = "20260101T000001Z-bbbbbb"
        try store.begin(runID: killed, suite: suite, started: Date(), host: ProcessInfo.processInfo.hostName, gitCommit: nil, models: [],
                        scratchDirectories: [reports.path])
        let orphan = reports.appendingPathComponent(".\(killed).md.\(killed).pending")
        try Data("partial".utf8).write(to: orphan)
        let dead = try Self.deadPID()
        let queue = try DatabaseQueue(path: url.path)
        try await queue.write { try $0.execute(sql: "UPDATE runs SET pid = ? WHERE id IN (?, ?, ?)", arguments: [dead, killed, finished, vanished]) }

        // A live run's pending file stays: its process may still commit it.
        let live = "20260101T000002Z-cccccc"
        try store.begin(runID: live, suite: suite, started: Date(), host: ProcessInfo.processInfo.hostName, gitCommit: nil, models: [],
                        scratchDirectories: [reports.path])
        let living = reports.appendingPathComponent(".\(live).md.\(live).pending")
        try Data("in progress".utf8).write(to: living)

        let recovery = try ResultsStore(url: url).recover()
        #expect(recovery == ResultsStore.Recovery(completedReports: 1, removedFiles: 1, lostReports: 1))
        #expect(try String(contentsOf: junit, encoding: .utf8) == "newer" && !FileManager.default.fileExists(atPath: junitPending.path))
        #expect(FileManager.default.fileExists(atPath: final.path) && !FileManager.default.fileExists(atPath: pending.path))
        #expect(!FileManager.default.fileExists(atPath: orphan.path) && FileManager.default.fileExists(atPath: living.path))
        #expect(try store.run(killed).status == "incomplete" && store.run(finished).status == outcome.verdict.rawValue)
        // Idempotent, and the run's own completion after another process's recovery is not an error.
        #expect(try store.recover() == ResultsStore.Recovery())
        #expect(try store.completeReports(run: finished) == 0)
    }
}
