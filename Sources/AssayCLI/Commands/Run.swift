import AssayCore
import ArgumentParser
import AssayEvaluators
import AssayReport
import AssayStore
import AssaySuite
import Foundation

extension AssayCommand {
    /// `assay run`: run a suite, write reports, record the run, exit by verdict.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a suite: evaluate, judge gates, write reports, record the run.",
            discussion: """
                Writes reports/<suite>/<run-id>.json, .md and .items.jsonl (atomically), records the run \
                in the store, prints the Markdown report, and exits 0 when every gate passed, 1 when a \
                gate failed, 2 when an evaluation could not run, 130 when interrupted (Ctrl-C, SIGTERM or \
                SIGHUP: the run stops after the current step and still writes every report).

                Examples:
                  assay run suites/quickstart.yaml
                  assay run suites/release.yaml --baseline latest --junit reports/junit.xml
                  assay run suites/release.yaml --model candidate=/models/new.gguf
                """)

        @Argument(help: ArgumentHelp("Suite file (YAML).", valueName: "suite"))
        var suite: String

        @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Replace a model's path: NAME=PATH (repeatable).", valueName: "name=path"))
        var model: [String] = []

        @Option(name: .long, help: ArgumentHelp("Compare max_regression gates with this run: 'latest' (newest completed run of the suite) or a run id.", valueName: "latest|run"))
        var baseline: String?

        @Option(name: .long, help: ArgumentHelp("Reports directory.", valueName: "dir"))
        var out: String = "reports"

        @Option(name: .long, help: ArgumentHelp("Also write JUnit XML here (one test case per gate).", valueName: "file"))
        var junit: String?

        @Flag(name: .customLong("no-html"), help: "Do not write the HTML report (<run>.html beside the JSON and Markdown).")
        var noHTML = false

        @Option(name: .long, help: "What to print on stdout: md (the Markdown report), json (the JSON report) or text (the verdict line).")
        var format: OutputFormat = .md

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            for entry in model where !entry.contains("=") {
                throw ValidationError("--model takes NAME=PATH, got '\(entry)'")
            }
        }

        func run() async throws {
            var loaded: Suite
            do {
                loaded = try SuiteLoader().load(URL(fileURLWithPath: suite))
            } catch let error as SuiteError {
                for diagnostic in error.diagnostics { Terminal.error("error: \(diagnostic)\n") }
                throw ExitCode(2)
            }
            for warning in loaded.warnings { Terminal.warning("\(warning)") }
            try applyModelOverrides(&loaded)
            let store = try storeOptions.open()
            let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: ProcessInfo.processInfo.hostName,
                                                   gitCommit: GitInfo.head())
            var baselineValues: Baseline?
            if let baseline {
                do {
                    baselineValues = try store.baseline(baseline, suite: loaded.name)
                } catch StoreError.noBaseline(let name) where baseline == "latest" {
                    Terminal.warning("no completed run of suite '\(name)' yet; max_regression gates are skipped this time")
                }
            }
            let models = loaded.models.map { ModelInspector.inspect(name: $0.name, spec: $0.spec) }
            let writer = ReportWriter(directory: URL(fileURLWithPath: out))
            let junitURL = junit.map { URL(fileURLWithPath: $0) }
            try store.begin(runID: identity.runID, suite: loaded, started: Date(), host: identity.host,
                            gitCommit: identity.gitCommit, models: models,
                            scratchDirectories: writer.scratchDirectories(suite: loaded.name, junit: junitURL))
            let progress = TerminalProgress()
            let runner = SuiteRunner(progress: progress)
            let suiteToRun = loaded
            let baselineToUse = baselineValues
            let interrupt = InterruptHandler()
            let task = Task { await runner.run(suiteToRun, identity: identity, models: models, baseline: baselineToUse) }
            interrupt.onInterrupt { task.cancel() }
            let outcome = await task.value

            // The handler stays until the store is updated: a signal now changes nothing (the
            // task is done). The order survives a SIGKILL too: the reports are written whole under
            // pending names, the store commits the run naming them, then they move into place; a
            // process killed before the commit leaves an incomplete run whose pending files the
            // next command removes, one killed after it a finished run whose reports the next
            // command moves into place (ResultsStore.recover).
            let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
            let pending = try writer.prepare(outcome, junit: junitURL, html: !noHTML)
            let written = pending.written
            try store.finish(outcome, reportPath: written.json.path, pending: pending.files.map { ($0.pending.path, $0.final.path) })
            // scripts/soak.sh widens the window between the commit and the renames, so that its
            // random kills land there too and the recovery is exercised (milliseconds).
            if let pause = ProcessInfo.processInfo.environment["ASSAY_SOAK_PAUSE_AFTER_COMMIT_MS"].flatMap(Double.init), pause > 0, pause < 10_000 {
                usleep(useconds_t(pause * 1000))
            }
            try store.completeReports(run: outcome.runID)
            if let summary { try ReportWriter.append(pending.markdown, to: summary) }
            interrupt.cancel()

            switch format {
            case .md: Terminal.output(MarkdownReport.render(outcome))
            case .json:
                let document = try ReportDocument(outcome, itemsFile: written.items?.lastPathComponent).encoded()
                FileHandle.standardOutput.write(String(data: document, encoding: .utf8).map { Data(Redaction.scrub($0).utf8) } ?? document)
            case .text: Terminal.output("\(outcome.verdict.rawValue) \(outcome.runID)")
            }
            let files = [written.markdown, written.json] + (written.html.map { [$0] } ?? [])
            Terminal.error("wrote \(files.map(\.path).joined(separator: ", ")); run \(outcome.runID) recorded in \(store.url.path)\n")
            for e in outcome.evaluations where e.status == .error {
                Terminal.error("error: evaluation '\(e.id)': \(e.error?.errorDescription ?? "failed")\n")
                if let hint = e.error?.hint { Terminal.error("hint: \(hint)\n") }
            }
            for g in outcome.gates where g.status == .fail { Terminal.error("gate failed: \(g.metric) \(g.rule): \(g.message)\n") }
            if outcome.verdict != .pass { throw ExitCode(outcome.verdict.exitCode) }
        }

        func applyModelOverrides(_ suite: inout Suite) throws {
            for entry in model {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard let index = suite.models.firstIndex(where: { $0.name == parts[0] }) else {
                    throw CommandError(message: "--model \(entry): the suite has no model '\(parts[0])'",
                                       hint: "models in \(suite.file.lastPathComponent): \(suite.models.map(\.name).joined(separator: ", "))")
                }
                let url = URL(fileURLWithPath: parts.count > 1 ? parts[1] : "")
                guard FileManager.default.fileExists(atPath: url.path) else {
                    throw CommandError(message: "--model \(entry): \(url.path) not found", hint: "give the path of a model file")
                }
                suite.models[index].spec = .file(url)
            }
        }
    }
}

/// Ctrl-C for long work, and the signals schedulers and terminals send to stop a job: SIGINT,
/// SIGTERM (Kubernetes, Slurm, a cancelled CI job) and SIGHUP (a closed terminal). The first runs
/// the action (cancel the task: stop after the current step, keep what was done, write every
/// report); a second Ctrl-C exits at once with 130 (a repeated SIGTERM or SIGHUP — a closing
/// terminal sends two — changes nothing). A signal the process started ignoring (`nohup`, a
/// background job) stays ignored. Create it *before* the task starts and attach the action after
/// (``onInterrupt(_:)``): a signal in between is remembered, never the default action that kills
/// the process without a report. Keep it until the reports are written and the store is updated.
final class InterruptHandler: @unchecked Sendable {
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// A self-pipe: the C handler writes the signal's number (async-signal-safe), a dispatch source
    /// reads it. (A dispatch signal source on Linux loses a signal the kernel hands to a thread
    /// that does not block it, and threads started before the handler do not.)
    private static let pipeFDs: (read: Int32, write: Int32) = {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (-1, -1) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        interruptPipeWrite = fds[1]
        return (fds[0], fds[1])
    }()
    private var source: DispatchSourceRead?
    /// Each handled signal's disposition before, restored by ``cancel()``.
    private var previous: [(Int32, __sighandler_t?)] = []
    private let lock = NSLock()
    private var count = 0
    private var interrupts = 0
    private var action: (@Sendable () -> Void)?

    init() {
        let fds = Self.pipeFDs
        guard fds.read >= 0 else { return }
        let source = DispatchSource.makeReadSource(fileDescriptor: fds.read, queue: .global())
        source.setEventHandler { [self] in
            var bytes = [UInt8](repeating: 0, count: 16)
            let n = read(fds.read, &bytes, bytes.count)
            for byte in bytes.prefix(max(0, n)) { received(Int32(byte)) }
        }
        source.resume()
        self.source = source
        for number in Self.signals {
            let before = signal(number, SIG_IGN)
            if number != SIGTERM, unsafeBitCast(before, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
                continue  // ignored from the start (nohup): leave it so
            }
            previous.append((number, before))
            signal(number, interruptSignalHandler)
        }
    }

    private func received(_ number: Int32) {
        lock.lock()
        count += 1
        if number == SIGINT { interrupts += 1 }
        let (count, interrupts, action) = (self.count, self.interrupts, self.action)
        lock.unlock()
        if count == 1 {
            let what = number == SIGINT ? "interrupted" : number == SIGTERM ? "terminated (SIGTERM)" : "hung up (SIGHUP)"
            Terminal.error("\n\(what): stopping after the current step (Ctrl-C again to quit at once)\n")
            action?()
        } else if number == SIGINT, interrupts >= 2 || count > interrupts {
            Foundation.exit(130)
        }
    }

    /// What the first signal does; runs at once when one already came.
    func onInterrupt(_ action: @escaping @Sendable () -> Void) {
        lock.lock()
        self.action = action
        let pending = count > 0
        lock.unlock()
        if pending { action() }
    }

    func cancel() {
        for (number, disposition) in previous { signal(number, disposition) }
        source?.cancel()
    }
}

/// The write end of ``InterruptHandler``'s pipe, for the C signal handler (set before it is installed).
nonisolated(unsafe) private var interruptPipeWrite: Int32 = -1

/// Writes the signal's number to the pipe: all a signal handler may safely do. `errno` is put
/// back afterwards: the interrupted thread may be between a failing call and reading its errno.
private func interruptSignalHandler(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(interruptPipeWrite, &byte, 1)
    errno = saved
}

/// The git commit of the working directory, if it is a repository.
enum GitInfo {
    static func head() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
