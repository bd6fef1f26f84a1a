import AssayCore
import AssayEvaluators
import Foundation
import Synchronization

/// Output to people: results on stdout, diagnostics and progress on stderr.
enum Terminal {
    /// Whether stderr is a terminal (progress is shown only then).
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Whether progress goes to stderr: `ASSAY_PROGRESS=always` (CI logs, tests) or `never`
    /// decide; otherwise only when stderr is a terminal.
    static var showsProgress: Bool {
        switch ProcessInfo.processInfo.environment["ASSAY_PROGRESS"] {
        case "always": true
        case "never": false
        default: stderrIsTerminal
        }
    }

    /// Writes `text` to stderr, secrets masked (``Redaction``).
    static func error(_ text: String) {
        // try?: FileHandle's write(_:) traps on an error (stderr on a full disk, or closed).
        try? FileHandle.standardError.write(contentsOf: Data(Redaction.scrub(text).utf8))
    }

    /// Writes `text` and `terminator` to stdout, secrets masked: what commands print as results.
    /// Every command's results go through here or ``standardOutput(_:)`` (not `print`, whose
    /// buffered write errors surface only at the last flush, unmasked).
    static func output(_ text: String, terminator: String = "\n") {
        standardOutput(Data((Redaction.scrub(text) + terminator).utf8))
    }

    /// Writes each of `lines` with a newline in one write (a line per item of a long list:
    /// sentence scores, token ids); nothing when there are none.
    static func output(lines: [String]) {
        guard !lines.isEmpty else { return }
        output(lines.joined(separator: "\n"))
    }

    /// Writes `data` to stdout as it is. Output that cannot be written (a full disk, /dev/full)
    /// is said once on stderr and ends the command with exit 2 at ``finishOutput()``, never a trap
    /// (FileHandle's `write(_:)` traps on an error) nor exit 0 with the results lost. The command
    /// goes on meanwhile, so what it says on stderr after its results (`run`'s "wrote …", its
    /// evaluation errors and failed gates) is not lost with them.
    static func standardOutput(_ data: Data) {
        if outputFailure.withLock({ $0 }) { return }
        do {
            try FileHandle.standardOutput.write(contentsOf: data)
        } catch {
            outputFailed((error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
    }

    /// Flushes what stdio buffered (every stream: Swift 6 cannot name `stdout` alone); exits 2
    /// when stdout could not take it or an earlier write to it failed.
    static func finishOutput() {
        if fflush(nil) != 0 { outputFailed(String(cString: strerror(errno))) }
        if outputFailure.withLock({ $0 }) { Foundation.exit(2) }
    }

    /// Whether a write to stdout failed (said once).
    private static let outputFailure = Mutex(false)

    private static func outputFailed(_ reason: String) {
        guard !outputFailure.withLock({ failed in defer { failed = true }; return failed }) else { return }
        Self.error("error: cannot write the results to standard output: \(reason)\n")
        Self.error("hint: check where standard output goes (a full disk, a file that cannot grow)\n")
    }

    /// Prints `error: …` and, when there is one, `hint: …`.
    static func printError(_ error: any Error) {
        let description = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
        Self.error("error: \(description)\n")
        if let hint = (error as? LocalizedError)?.recoverySuggestion { Self.error("hint: \(hint)\n") }
    }

    /// Prints a warning line.
    static func warning(_ text: String) { Self.error("warning: \(text)\n") }
}

/// Progress on stderr when it is a terminal: one updating line per evaluation.
final class TerminalProgress: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private let enabled: Bool
    private var started: [String: Date] = [:]

    init(enabled: Bool = Terminal.showsProgress) { self.enabled = enabled }

    /// One line: `eval: tokens 1024/8192 (12%) · 1,830 tokens/s · ETA 4s`.
    func update(evaluation: String, completed: Int, total: Int, detail: String) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        let start = started[evaluation] ?? Date()
        if started[evaluation] == nil { started[evaluation] = start }
        let percent = total > 0 ? Int(Double(completed) / Double(total) * 100) : 0
        var line = "\r\u{1B}[2K\(evaluation): \(detail) \(completed)/\(total) (\(percent)%)"
        let elapsed = Date().timeIntervalSince(start)
        if completed > 0, elapsed > 0.5 {
            let rate = Double(completed) / elapsed
            line += String(format: " · %.0f %@/s", rate, detail)
            if completed < total { line += " · ETA " + Self.duration(Double(total - completed) / rate) }
        }
        Terminal.error(line)
        if completed >= total { Terminal.error("\n") }
    }

    /// `42s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }

    func evaluationStarted(_ evaluation: String, evaluator: String, index: Int, count: Int) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        Terminal.error("[\(index)/\(count)] \(evaluation) (\(evaluator))…\n")
    }

    func evaluationFinished(_ evaluation: String, status: String, seconds: Double) {
        guard enabled else { return }
        lock.lock()
        defer { lock.unlock() }
        Terminal.error("      \(evaluation): \(status) in \(String(format: "%.2f", seconds)) s\n")
    }
}

/// An error the command already explained; carries the exit code.
struct CommandError: AssayError {
    var message: String
    var hint: String?
    var code: Int32 = 2

    var errorDescription: String? { message }
    var recoverySuggestion: String? { hint }
}

