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

                Perplexity chunks (or documents), quant-drift chunks, generated completions and BERTScore \
                pairs (in blocks) are kept in the store as they finish; --resume takes those an earlier run of the same evaluation, model and \
                data finished — after a kill, Ctrl-C or a lost node — and the report says how many.

                Each evaluation that succeeds is kept in the store too; --reuse takes it instead of \
                evaluating again when its evaluator, options, models (SHA-256), data files, the earlier \
                results it reads and the assay build are all unchanged, and says so on its first metric. \
                Speed measurements (throughput, serving) and served models are always evaluated anew.

                With --shard I/N the run evaluates the I-th of N contiguous parts of every dataset's \
                items and writes only <out>/<suite>/shard-I-of-N.json (no gates, no run in the store; \
                finished items are kept only in a store given with --store, one per shard); \
                `assay merge` puts the N files together into the report an unsharded run gives, \
                judges the gates and records the run (docs/distributed.md). --shard auto reads the \
                index from ASSAY_SHARD (I/N), a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, with \
                --shard auto/N) or a Slurm array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT).

                Examples:
                  assay run suites/quickstart.yaml
                  assay run suites/release.yaml --baseline latest --junit reports/junit.xml
                  assay run suites/release.yaml --model candidate=/models/new.gguf
                  assay run suites/release.yaml --shard 2/4      # then: assay merge reports/release/shard-*-of-4.json
                  assay run suites/release.yaml --resume         # after a kill: finished chunks, prompts and pairs are kept
                  assay run suites/release.yaml --reuse          # only what changed since the last run is evaluated
                """)

        @Argument(help: ArgumentHelp("Suite file (YAML).", valueName: "suite"))
        var suite: String

        @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Replace a model's path: NAME=PATH (repeatable).", valueName: "name=path"))
        var model: [String] = []

        @OptionGroup var report: RunReportOptions

        @Option(name: .long, parsing: .unconditional,
                help: ArgumentHelp("Evaluate part I of N of every dataset and write a shard file for `assay merge`: I/N, auto or auto/N (index from the scheduler's environment).", valueName: "I/N"))
        var shard: String?

        @Flag(name: .long, help: "Take the items an earlier run of this suite finished before it was killed or interrupted (kept in the store as they finish) instead of evaluating them again.")
        var resume = false

        @Flag(name: .long, help: "Take each evaluation an earlier run finished when nothing it depends on changed (evaluator, options, models, data, the earlier results it reads, the assay build) instead of evaluating it again.")
        var reuse = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            for entry in model where !entry.contains("=") {
                throw ValidationError("--model takes NAME=PATH, got '\(entry)'")
            }
            if shard != nil {
                _ = try parsedShard()
                if reuse {
                    throw ValidationError("--reuse takes whole evaluations from the store, which a shard does not open: use --resume to keep a shard's finished items")
                }
                if report.baseline != nil || report.junit != nil || report.noHTML {
                    throw ValidationError("--shard writes a shard file only: give --baseline, --junit and --no-html to `assay merge`, which judges the gates and writes the reports")
                }
            }
        }

        func parsedShard() throws -> Shard? {
            guard let shard else { return nil }
            do { return try Shard(parsing: shard, environment: ProcessInfo.processInfo.environment) } catch let problem as Diagnostic {
                throw ValidationError(problem.message + (problem.hint.map { " (\($0))" } ?? ""))
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
            try report.prepareOutput(suite: loaded.name)
            if let shard = try parsedShard() {
                try await runShard(loaded, shard: shard)
                return
            }
            let store = try storeOptions.open()
            let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: ProcessInfo.processInfo.hostName,
                                                   gitCommit: GitInfo.head())
            let baselineValues = try report.baselineValues(in: store, suite: loaded.name)
            let models = loaded.models.map { ModelInspector.inspect(name: $0.name, spec: $0.spec) }
            try store.begin(runID: identity.runID, suite: loaded, started: Date(), host: identity.host,
                            gitCommit: identity.gitCommit, models: models,
                            scratchDirectories: report.writer.scratchDirectories(suite: loaded.name, junit: report.junitURL))
            let progress = TerminalProgress()
            let runner = SuiteRunner(progress: progress, itemCache: store, resume: resume, resultCache: store, reuse: reuse, embeddingCache: store)
            let suiteToRun = loaded
            let baselineToUse = baselineValues
            let interrupt = InterruptHandler()
            let task = Task { await runner.run(suiteToRun, identity: identity, models: models, baseline: baselineToUse) }
            interrupt.onInterrupt { task.cancel() }
            let outcome = await task.value

            // The handler stays until the store is updated: a signal now changes nothing (the
            // task is done).
            try report.recorder.record(outcome, in: store)
            interrupt.cancel()
            if outcome.verdict != .pass { throw ExitCode(outcome.verdict.exitCode) }
        }

        /// `--shard`: runs this shard's part, writes `<out>/<suite>/shard-I-of-N.json` atomically,
        /// and exits 0 when every evaluation that ran here succeeded (2 on an error, 130 when
        /// interrupted: the file is written either way, and `assay merge` refuses an interrupted one).
        func runShard(_ suite: Suite, shard: Shard) async throws {
            let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: ProcessInfo.processInfo.hostName,
                                                   gitCommit: GitInfo.head())
            let models = suite.models.map { ModelInspector.inspect(name: $0.name, spec: $0.spec) }
            // A shard keeps finished items only in a store it was given (--store, or --resume with the
            // default store): shards on other nodes must not share one SQLite file over a network
            // filesystem, and a read-only working directory stays usable.
            var cache: ResultsStore?
            if resume || storeOptions.store != nil { cache = try storeOptions.open() }
            let runner = SuiteRunner(progress: TerminalProgress(), itemCache: cache, resume: resume, embeddingCache: cache)
            let interrupt = InterruptHandler()
            let task = Task { await runner.runShard(suite, shard: shard, identity: identity, models: models) }
            interrupt.onInterrupt { task.cancel() }
            let shardReport = await task.value
            let url = URL(fileURLWithPath: report.out).appendingPathComponent(suite.name)
                .appendingPathComponent(ShardReport.fileName(shard))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(shardReport.redacted())
            try AtomicFile.write(exactly: data, to: url)
            interrupt.cancel()
            let ran = shardReport.evaluations.filter { $0.status != nil }
            let items = ran.reduce(0) { $0 + $1.items.count }
            if report.format == .json {
                Terminal.standardOutput(data)
            } else {
                Terminal.output("shard \(shard): " + Self.shardSummary(ran.compactMap(\.status), of: shardReport.evaluations.count, firstShard: shard.index == 1)
                                + ", \(items) item rows")
            }
            if ran.contains(where: { $0.status == .interrupted }) {
                // `assay merge` refuses an interrupted shard: say what to do instead of merging.
                Terminal.error("wrote \(url.path) (interrupted); run this shard again before merging (--resume keeps the items it finished where a store was given)\n")
            } else {
                Terminal.error("wrote \(url.path); merge every shard with: assay merge \(url.deletingLastPathComponent().path)/shard-*-of-\(shard.count).json\n")
            }
            for e in ran where e.status == .error {
                Terminal.error("error: evaluation '\(e.id)': \(e.error?.errorDescription ?? "failed")\n")
                if let hint = e.error?.hint { Terminal.error("hint: \(hint)\n") }
            }
            if ran.contains(where: { $0.status == .interrupted }) { throw ExitCode(130) }
            if ran.contains(where: { $0.status == .error }) { throw ExitCode(2) }
        }

        /// "2 of 3 evaluations of this shard finished (1 interrupted); 1 more runs in shard 1 or at
        /// the merge": `statuses` are those of the evaluations this shard had to run (failed or
        /// interrupted ones did not finish and say so), `total` the suite's.
        static func shardSummary(_ statuses: [EvaluationOutcome.Status], of total: Int, firstShard: Bool) -> String {
            let finished = statuses.filter { $0 == .ok }.count
            let unfinished = [(EvaluationOutcome.Status.error, "failed"), (.interrupted, "interrupted")].compactMap { status, word in
                let n = statuses.filter { $0 == status }.count
                return n > 0 ? "\(n) \(word)" : nil
            }
            let elsewhere = total - statuses.count
            return "\(finished) of \(statuses.count) evaluations of this shard finished" + (unfinished.isEmpty ? "" : " (\(unfinished.joined(separator: ", ")))")
                + (elsewhere > 0 ? "; \(elsewhere) more run\(elsewhere == 1 ? "s" : "") \(firstShard ? "" : "in shard 1 or ")at the merge" : "")
        }

        func applyModelOverrides(_ suite: inout Suite) throws {
            for entry in model {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard let index = suite.models.firstIndex(where: { $0.name == parts[0] }) else {
                    throw CommandError(message: "--model \(entry): the suite has no model '\(parts[0])'",
                                       hint: "models in \(suite.file.lastPathComponent): \(suite.models.map(\.name).joined(separator: ", "))")
                }
                let url = URL(fileURLWithPath: parts.count > 1 ? parts[1] : "")
                if let problem = SuiteLoader.modelPathProblem(url) {
                    throw CommandError(message: "--model \(entry): \(problem.message)", hint: problem.hint)
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
