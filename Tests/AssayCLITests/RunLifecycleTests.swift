import AssayStore
import AssayTestSupport
import Foundation
import Testing

/// What happens to the store and the reports when a run is killed, interrupted, or races another.
@Suite(.serialized)
struct RunLifecycleTests {
    /// A suite with several chrF++ evaluations over a generated corpus large enough to take a while.
    static func slowSuite(in directory: URL, lines: Int = 150_000) throws -> URL {
        var rng = SystemRandomNumberGenerator()
        let words = ["river", "stone", "light", "paper", "garden", "window", "silver", "morning", "quiet", "engine",
                     "harbor", "letter", "winter", "forest", "market", "signal", "bridge", "candle", "planet", "orange"]
        func sentence() -> String { (0..<12).map { _ in words[Int(rng.next() % UInt64(words.count))] }.joined(separator: " ") }
        try (0..<lines).map { _ in sentence() }.joined(separator: "\n").write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try (0..<lines).map { _ in sentence() }.joined(separator: "\n").write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        let url = directory.appendingPathComponent("slow.yaml")
        try """
            version: 1
            name: slow
            datasets: { big: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] } }
            evaluations:
              - { id: one, evaluator: chrf, dataset: big, options: { word_order: 2 } }
              - { id: two, evaluator: chrf, dataset: big, options: { word_order: 2 } }
              - { id: three, evaluator: chrf, dataset: big, options: { word_order: 2 } }
              - { id: four, evaluator: chrf, dataset: big, options: { word_order: 2 } }
            gates: [ { metric: one.score, min: 0 } ]
            """.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    /// Waits until the store at `url` has a run with `status`.
    static func waitForRun(store url: URL, status: String, timeout: TimeInterval = 60) throws -> RunSummary? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: url.path),
               let run = try? ResultsStore(url: url).history().first(where: { $0.status == status }) {
                return run
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return nil
    }

    @Test func sigkillLeavesAReadableStoreWithAnIncompleteRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-kill")
        let suite = try Self.slowSuite(in: directory)
        let store = directory.appendingPathComponent("store.sqlite")
        let running = try AssayProcess.start(["run", suite.path, "--store", store.path, "--out", "out"], in: directory)
        let started = try #require(try Self.waitForRun(store: store, status: "incomplete"))
        kill(running.process.processIdentifier, SIGKILL)
        running.process.waitUntilExit()
        #expect(running.process.terminationReason == .uncaughtSignal)

        let reopened = try ResultsStore(url: store)
        let run = try reopened.run(started.id)
        #expect(run.status == "incomplete")
        #expect(run.finished == nil)
        #expect(try reopened.metrics(run: run.id).isEmpty)
        let history = try AssayProcess.run(["history", "--store", store.path])
        #expect(history.status == 0 && history.stdout.contains("incomplete"))
        let reports = directory.appendingPathComponent("out/slow")
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: reports.path)) ?? []
        #expect(leftovers.allSatisfy { !$0.hasSuffix(".json") })
    }

    /// Ctrl-C, and a scheduler's SIGTERM (Kubernetes, Slurm, CI cancelling a job) or a closed
    /// terminal's SIGHUP: all stop after the current step with every report written.
    @Test(arguments: [SIGINT, SIGTERM, SIGHUP])
    func ctrlCStopsCleanlyAndMarksTheRunInterrupted(signal: Int32) throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-int")
        let suite = try Self.slowSuite(in: directory)
        let store = directory.appendingPathComponent("store.sqlite")
        let running = try AssayProcess.start(["run", suite.path, "--store", store.path, "--out", "out", "--format", "json"], in: directory,
                                             environment: ["ASSAY_PROGRESS": "always"])
        _ = try #require(try Self.waitForRun(store: store, status: "incomplete"))
        // Interrupt while the first evaluation is running (its start is announced on stderr).
        #expect(AssayProcess.waitForStderr(running, containing: "[1/"))
        kill(running.process.processIdentifier, signal)
        let out = running.outPipe.fileHandleForReading.readDataToEndOfFile()
        running.process.waitUntilExit()
        #expect(running.process.terminationReason == .exit && running.process.terminationStatus == 130)
        let report = try #require(try JSONSerialization.jsonObject(with: out) as? [String: Any])
        #expect(report["verdict"] as? String == "interrupted")
        let statuses = (report["evaluations"] as? [[String: Any]])?.compactMap { $0["status"] as? String } ?? []
        #expect(statuses.last == "interrupted")
        let run = try #require(try ResultsStore(url: store).history().first)
        #expect(run.status == "interrupted")
        #expect(run.finished != nil)
    }

    /// An interrupted shard writes its file and says how many evaluations finished (it had said
    /// "4 of 4 evaluations ran here" of a shard stopped in its first).
    @Test func anInterruptedShardSaysWhatDidNotFinish() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-int-shard")
        let suite = try Self.slowSuite(in: directory)
        let running = try AssayProcess.start(["run", suite.path, "--shard", "1/2", "--out", "out", "--format", "text"], in: directory,
                                             environment: ["ASSAY_PROGRESS": "always"])
        // stderr read here (not by waitForStderr, which drains the rest): the hint comes after the signal.
        var err = Data()
        while !String(decoding: err, as: UTF8.self).contains("[1/") {
            let chunk = running.errPipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            err.append(chunk)
        }
        kill(running.process.processIdentifier, SIGINT)
        err.append(running.errPipe.fileHandleForReading.readDataToEndOfFile())
        let out = String(decoding: running.outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        running.process.waitUntilExit()
        #expect(running.process.terminationStatus == 130)
        #expect(out.contains("0 of 4 evaluations of this shard finished ("), "\(out)")
        // Not "merge every shard": assay merge refuses an interrupted shard.
        let messages = String(decoding: err, as: UTF8.self)
        #expect(messages.contains("(interrupted); run this shard again before merging") && !messages.contains("merge every shard"), "\(messages.suffix(400))")
        #expect(out.contains("interrupted)"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("out/slow/shard-1-of-2.json").path))
    }

    @Test func twoConcurrentRunsOnOneStoreLoseNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-race")
        let store = directory.appendingPathComponent("store.sqlite")
        let suite = try Self.slowSuite(in: directory, lines: 5_000).path
        let runs = try (0..<2).map { i in
            try AssayProcess.start(["run", suite, "--store", store.path, "--out", "out\(i)", "--format", "text"], in: directory)
        }
        for run in runs {
            _ = run.outPipe.fileHandleForReading.readDataToEndOfFile()
            run.process.waitUntilExit()
            #expect(run.process.terminationStatus == 0)
        }
        let results = try ResultsStore(url: store)
        let history = try results.history()
        #expect(history.count == 2)
        let spans = history.compactMap { run in run.finished.map { (run.started, $0) } }
        #expect(spans.count == 2 && spans[0].0 < spans[1].1 && spans[1].0 < spans[0].1, "the two runs overlapped in time")
        #expect(Set(history.map(\.status)) == ["pass"])
        for run in history {
            #expect(try results.metrics(run: run.id).count == 4)
            #expect(try results.itemCount(run: run.id) == 20_000)
        }
    }
}
