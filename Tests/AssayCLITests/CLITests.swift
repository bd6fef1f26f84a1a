import AssayTestSupport
import Foundation
import Testing

/// End-to-end tests of the built `assay` executable: exit codes, reports, store rows.
struct CLITests {
    /// A working directory with the quickstart fixtures' paths available.
    static func workspace() throws -> URL {
        let directory = try TestEnvironment.temporaryDirectory("assay-cli")
        return directory
    }

    static var quickstart: String { TestEnvironment.root.appendingPathComponent("suites/quickstart.yaml").path }

    /// A model path that does not exist is a path to check, not a malformed file.
    @Test func missingModelFileSaysCheckThePath() throws {
        let directory = try Self.workspace()
        for arguments in [["quantize", "missing.gguf", "--type", "q8_0", "--out", "out.gguf"], ["inspect", "missing.gguf"]] {
            let result = try AssayProcess.run(arguments, in: directory)
            #expect(result.status == 2 && result.stderr.contains("missing.gguf") && result.stderr.contains("check the path"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("malformed"))
        }
    }

    /// A negative number is a value, not a flag: it gets the option's own range error, never
    /// "missing value" (and `history --limit -3` is not SQLite's "no limit").
    @Test(arguments: [
        (["perplexity", "m.gguf", "t.txt", "--context", "-5"], "--context must be at least 4"),
        (["perplexity", "m.gguf", "t.txt", "--chunks", "-1"], "--chunks must be 0 (all) or more"),
        (["generate", "m.gguf", "hi", "--temperature", "-1"], "--temperature must be 0 or more"),
        (["history", "--limit", "-3"], "--limit must be at least 1, got -3"),
        (["bench", "m.gguf", "-r", "-2"], "-r must be at least 1"),
    ])
    func negativeNumbersGetTheOptionsRangeError(_ arguments: [String], _ message: String) throws {
        let result = try AssayProcess.run(arguments)
        #expect(result.status == 64 && result.stderr.contains(message), "\(result.stderr)")
    }

    /// A workspace holding `s.yaml`, suite `name`: BLEU of hyp.txt against ref.txt.
    static func bleuSuiteWorkspace(name: String) throws -> URL {
        let directory = try workspace()
        try "the cat sat on the mat\n".write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try "the cat is on the mat\n".write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        try """
            version: 1
            name: \(name)
            datasets:
              mt: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: mt }
            """.write(to: directory.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        return directory
    }

    /// Where reports cannot go is found before anything is evaluated (it had failed after the run
    /// with Foundation's words and exit 1 — "a gate failed" — the run left incomplete).
    @Test func unwritableReportPlacesFailBeforeTheRun() throws {
        let directory = try Self.bleuSuiteWorkspace(name: "places")
        try "x".write(to: directory.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("folder"), withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("file").standardizedFileURL.path
        let folder = directory.appendingPathComponent("folder").path
        for (arguments, environment, message) in [
            (["--out", "file"], [:], "--out: \(file) is a file, not a directory"),
            (["--out", "file/deeper"], [:], "--out: \(file) is a file, not a directory"),
            (["--junit", "folder"], [:], "--junit \(folder) is a directory"),
            ([], ["GITHUB_STEP_SUMMARY": folder], "GITHUB_STEP_SUMMARY (\(folder)) is a directory"),
        ] {
            let result = try AssayProcess.run(["run", "s.yaml", "--store", "s.sqlite"] + arguments, in: directory, environment: environment)
            #expect(result.status == 2 && result.stderr.contains(message) && result.stderr.contains("hint:"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("NSCocoaErrorDomain"))
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("s.sqlite").path), "a run began")
    }

    /// A report path that is a symbolic link or a FIFO (found by probing, 2026-12-07): the files
    /// had been renamed over them, so the link became a file and, run as root, `--junit /dev/null`
    /// or `--svg /dev/null` turned the device into one. The link's file is written now, a FIFO is
    /// written into (`--svg`) or refused before the run (`--junit`, written after the run).
    @Test func linksAndFIFOsAreWrittenThroughNotReplaced() throws {
        let directory = try Self.bleuSuiteWorkspace(name: "links")
        try "item,rater,label\n1,a,x\n1,b,x\n2,a,y\n2,b,x\n3,a,y\n3,b,y\n".write(to: directory.appendingPathComponent("r.csv"), atomically: true, encoding: .utf8)
        let real = directory.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: real, withIntermediateDirectories: true)
        for name in ["k.svg", "j.xml"] {
            try "old".write(to: real.appendingPathComponent(name), atomically: true, encoding: .utf8)
            try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link-" + name).path, withDestinationPath: "real/" + name)
        }
        let svg = try AssayProcess.run(["agreement", "r.csv", "--scale", "x,y", "--svg", "link-k.svg"], in: directory)
        let run = try AssayProcess.run(["run", "s.yaml", "--store", "s.sqlite", "--junit", "link-j.xml"], in: directory)
        #expect(svg.status == 0 && run.status == 0, "\(svg.stderr) \(run.stderr)")
        for (name, start) in [("k.svg", "<svg"), ("j.xml", "<?xml")] {
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("link-" + name).path)
            #expect(attributes[.type] as? FileAttributeType == .typeSymbolicLink, "\(name)")
            #expect(try String(contentsOf: real.appendingPathComponent(name), encoding: .utf8).hasPrefix(start), "\(name)")
        }
        let fifo = directory.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o644) == 0)
        let read = DispatchSemaphore(value: 0)
        let box = LockedText()
        DispatchQueue.global().async {
            box.text = FileHandle(forReadingAtPath: fifo).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) } ?? ""
            read.signal()
        }
        let intoFIFO = try AssayProcess.run(["agreement", "r.csv", "--scale", "x,y", "--svg", "fifo"], in: directory)
        #expect(intoFIFO.status == 0, "\(intoFIFO.stderr)")
        #expect(read.wait(timeout: .now() + 30) == .success && box.text.hasPrefix("<svg"))
        // A dangling link: its file is created, the link stays.
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("link-new.svg").path, withDestinationPath: "real/new.svg")
        let dangling = try AssayProcess.run(["agreement", "r.csv", "--scale", "x,y", "--svg", "link-new.svg"], in: directory)
        #expect(dangling.status == 0, "\(dangling.stderr)")
        #expect(try String(contentsOf: real.appendingPathComponent("new.svg"), encoding: .utf8).hasPrefix("<svg"))
        // /dev/stdout redirected to a file: the chart goes after the printed table, the file is not replaced.
        let printed = directory.appendingPathComponent("printed.txt")
        #expect(FileManager.default.createFile(atPath: printed.path, contents: nil))
        let process = Process()
        process.executableURL = TestEnvironment.assayBinary
        process.currentDirectoryURL = directory
        process.arguments = ["agreement", "r.csv", "--scale", "x,y", "--svg", "/dev/stdout"]
        process.standardOutput = try FileHandle(forWritingTo: printed)
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let both = try String(contentsOf: printed, encoding: .utf8)
        #expect(process.terminationStatus == 0 && both.contains("<svg") && both.contains("kappa"), "\(both.prefix(300))")
        // A FIFO nobody reads: an error, not a wait.
        let lonely = directory.appendingPathComponent("lonely").path
        #expect(mkfifo(lonely, 0o644) == 0)
        let waiting = try AssayProcess.start(["agreement", "r.csv", "--scale", "x,y", "--svg", "lonely"], in: directory)
        let deadline = Date().addingTimeInterval(30)
        while waiting.process.isRunning && Date() < deadline { usleep(50_000) }
        if waiting.process.isRunning { waiting.process.terminate() }
        let lonelyError = String(decoding: waiting.errPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        waiting.process.waitUntilExit()
        #expect(waiting.process.terminationStatus == 2 && lonelyError.contains("no process is reading this FIFO"), "\(lonelyError)")
        let junit = try AssayProcess.run(["run", "s.yaml", "--store", "s.sqlite", "--junit", "fifo"], in: directory)
        #expect(junit.status == 2 && junit.stderr.contains("is not a file of its own"), "\(junit.stderr)")
        let attributes = try FileManager.default.attributesOfItem(atPath: fifo)
        #expect(attributes[.type] as? FileAttributeType != .typeRegular)
    }

    /// `--shard -1/2` is a value: its own error, not "Missing value for '--shard'"; `assay merge`
    /// given a directory names it (it had printed "NSCocoaErrorDomain error 256").
    @Test func shardValuesAndMergeInputsGetTheirOwnErrors() throws {
        let shard = try AssayProcess.run(["run", Self.quickstart, "--shard", "-1/2"])
        #expect(shard.status == 64 && shard.stderr.contains("shard -1 of 2 does not exist") && !shard.stderr.contains("Missing value"), "\(shard.stderr)")
        let directory = try Self.workspace()
        let merge = try AssayProcess.run(["merge", directory.path])
        #expect(merge.status == 2 && merge.stderr.contains("is a directory, not a shard file") && !merge.stderr.contains("NSCocoaErrorDomain"),
                "\(merge.stderr)")
    }

    /// Results that cannot reach stdout (found by probing, 2026-12-07): `--format json` to
    /// /dev/full had trapped (SIGILL, exit 132: FileHandle's write traps on ENOSPC) and text had
    /// been lost with exit 0. Both now exit 2 with the reason.
    @Test func resultsThatCannotBeWrittenExitTwo() throws {
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        for format in ["json", "text"] {
            let process = Process(), errors = Pipe()
            process.executableURL = TestEnvironment.assayBinary
            process.arguments = ["bleu", text, "--ref", text, "--format", format]
            process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"), "/dev/full")
            process.standardError = errors
            try process.run()
            let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationReason == .exit && process.terminationStatus == 2, "\(format): \(process.terminationStatus)")
            #expect(stderr.contains("error: cannot write the results to standard output: "), "\(format): \(stderr)")
        }
        // `run` whose report cannot reach stdout still says on stderr where it wrote the reports
        // and which gate failed (these had been lost with the results), and exits 2.
        let directory = try Self.bleuSuiteWorkspace(name: "full")
        try (String(contentsOf: directory.appendingPathComponent("s.yaml"), encoding: .utf8) + "\ngates:\n  - { metric: bleu.score, min: 99 }\n")
            .write(to: directory.appendingPathComponent("s.yaml"), atomically: true, encoding: .utf8)
        let run = Process(), runErrors = Pipe()
        run.executableURL = TestEnvironment.assayBinary
        run.arguments = ["run", "s.yaml", "--store", "s.sqlite", "--out", "out"]
        run.currentDirectoryURL = directory
        run.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        run.standardError = runErrors
        try run.run()
        let runStderr = String(decoding: runErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        #expect(run.terminationStatus == 2, "\(runStderr)")
        #expect(runStderr.contains("error: cannot write the results to standard output: ") && runStderr.contains("; run ")
                && runStderr.contains("recorded in") && runStderr.contains("gate failed: bleu.score"), "\(runStderr)")
        // stderr on /dev/full too (`2>&1`): the message is lost, the exit is still 2, not a trap.
        let process = Process()
        process.executableURL = TestEnvironment.assayBinary
        process.arguments = ["bleu", text, "--ref", text, "--format", "json"]
        process.standardOutput = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        process.standardError = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 2, "\(process.terminationStatus)")
    }

    @Test func unknownFlagIsAUsageError() throws {
        let result = try AssayProcess.run(["run", Self.quickstart, "--no-such-flag"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("--no-such-flag"))
    }

    @Test func quickstartRunWritesReportsAndRecordsTheRun() throws {
        let directory = try Self.workspace()
        let store = directory.appendingPathComponent("store.sqlite").path
        let summary = directory.appendingPathComponent("summary.md")
        let result = try AssayProcess.run(
            ["run", Self.quickstart, "--store", store, "--out", "out", "--junit", "junit.xml"], in: directory,
            environment: ["GITHUB_STEP_SUMMARY": summary.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("# ✅ PASS — quickstart"))
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("out/quickstart").path)
        let json = try #require(files.first { $0.hasSuffix(".json") })
        #expect(files.contains { $0.hasSuffix(".md") } && files.contains { $0.hasSuffix(".items.jsonl") } && files.contains { $0.hasSuffix(".html") })
        let validator = try JSONSchemaValidator(schemaAt: TestEnvironment.reportSchema)
        #expect(try validator.violations(of: Data(contentsOf: directory.appendingPathComponent("out/quickstart/\(json)"))) == [])
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("junit.xml").path))
        #expect(try String(contentsOf: summary, encoding: .utf8).hasPrefix("# ✅ PASS"))

        let runID = String(json.dropLast(5))
        let history = try AssayProcess.run(["history", "--store", store, "--format", "json"])
        #expect(history.status == 0)
        #expect(history.stdout.contains("\"id\" : \"\(runID)\"") && history.stdout.contains("\"status\" : \"pass\""))
        let show = try AssayProcess.run(["show", String(runID.prefix(22)), "--store", store])
        #expect(show.status == 0 && show.stdout.contains("bleu-a (bleu) — ok") && show.stdout.contains("signature: nrefs:1|bs:1000"))

        // A second run against the first as baseline; then compare the two.
        let second = try AssayProcess.run(["run", Self.quickstart, "--store", store, "--out", "out", "--baseline", "latest", "--format", "json"],
                                          in: directory)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("\"baseline_run_id\" : \"\(runID)\""))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        let secondID = try #require(report["run_id"] as? String)
        let compare = try AssayProcess.run(["compare", runID, secondID, "--store", store])
        #expect(compare.status == 0)
        #expect(compare.stdout.contains("| bleu-a.score | 61.8854 | 61.8854 | +0 | 1.000× | — | same |"), "\(compare.stdout)")
    }

    @Test func failingGateExitsOne() throws {
        let directory = try Self.workspace()
        let suite = directory.appendingPathComponent("gate.yaml")
        let fixtures = TestEnvironment.root.appendingPathComponent("Fixtures/mt").path
        try """
            version: 1
            name: failing-gate
            datasets:
              b: { kind: parallel, hypotheses: "\(fixtures)/system-b.txt", references: ["\(fixtures)/reference.txt"] }
            evaluations:
              - { id: bleu, evaluator: bleu, dataset: b }
            gates:
              - { metric: bleu.score, min: 50 }
            """.write(to: suite, atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["run", suite.path, "--store", "s.sqlite", "--format", "text"], in: directory)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("fail "))
        #expect(result.stderr.contains("gate failed: bleu.score min: 5.002 is below the minimum 50 by 44.998"))
    }

    @Test func malformedSuiteExitsTwoNamingFileLineColumn() throws {
        let directory = try Self.workspace()
        let suite = directory.appendingPathComponent("bad.yaml")
        try "version: 1\nname: bad\nevaluations:\n  - id: x\n    evaluator: blue\n".write(to: suite, atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["run", suite.path, "--store", "s.sqlite"], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(suite.path):5:16: evaluations[0].evaluator: unknown evaluator 'blue'; did you mean 'bleu'?"))
        let validate = try AssayProcess.run(["validate", suite.path, Self.quickstart])
        #expect(validate.status == 2)
        #expect(validate.stdout.contains("ok: \(Self.quickstart)"))
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("s.sqlite").path))
    }

    @Test func evaluationErrorExitsTwoAndKeepsOtherResults() throws {
        let directory = try Self.workspace()
        try "one\ntwo\n".write(to: directory.appendingPathComponent("hyp.txt"), atomically: true, encoding: .utf8)
        try "one\n".write(to: directory.appendingPathComponent("ref.txt"), atomically: true, encoding: .utf8)
        try Data([0x6F, 0x6B, 0x0A, 0xFF, 0xFE, 0x0A]).write(to: directory.appendingPathComponent("latin.txt"))
        try """
            version: 1
            name: with-errors
            datasets:
              short: { kind: parallel, hypotheses: hyp.txt, references: [ref.txt] }
              latin: { kind: parallel, hypotheses: latin.txt, references: [hyp.txt] }
              fine: { kind: parallel, hypotheses: hyp.txt, references: [hyp.txt] }
            evaluations:
              - { id: mismatch, evaluator: bleu, dataset: short }
              - { id: encoding, evaluator: chrf, dataset: latin }
              - { id: ok, evaluator: bleu, dataset: fine }
            """.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--format", "json"], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("ref.txt: has 1 lines but the hypotheses have 2"))
        #expect(result.stderr.contains("latin.txt:2: line is not valid UTF-8"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let evaluations = try #require(report["evaluations"] as? [[String: Any]])
        #expect(evaluations.map { $0["status"] as? String } == ["error", "error", "ok"])
        #expect(report["verdict"] as? String == "error")
    }

    @Test func listShowsEvaluatorsOptionsAndMetrics() throws {
        let result = try AssayProcess.run(["list"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("bleu — Corpus BLEU"))
        #expect(result.stdout.contains("tokenize     13a|char|intl|none|zh (default 13a)"))
        #expect(result.stdout.contains("score        higher is better"))
        #expect(result.stdout.contains("chrf — "))
        // Names are never cut (they were at 14 characters), and the renamed evaluator is listed.
        #expect(result.stdout.contains("exclude_special_from_matching bool") && result.stdout.contains("kappa_quadratic "))
        #expect(result.stdout.contains("human-agreement — ") && !result.stdout.contains("\nagreement — "))
    }

    @Test func helpTeaches() throws {
        let result = try AssayProcess.run(["bleu", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("assay bleu hyp.txt --ref refA.txt --ref refB.txt"))
    }
}

/// Text set on one thread and read on another after a semaphore.
final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var value = ""
    var text: String {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}
