import ArgumentParser
import AssayCore
import AssayReport
import AssayStore
import AssaySuite
import Foundation

/// What `assay run` and `assay merge` share: the baseline gates compare with, where reports go,
/// and what is printed.
struct RunReportOptions: ParsableArguments {
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

    var writer: ReportWriter { ReportWriter(directory: URL(fileURLWithPath: out)) }
    /// `--junit`, a symbolic link followed (the file it names is replaced, the link stays).
    var junitURL: URL? { junit.map { URL(fileURLWithPath: $0) }.map { (try? AtomicFile.target(of: $0)) ?? $0 } }
    var recorder: RunRecorder { RunRecorder(writer: writer, junit: junitURL, html: !noHTML, format: format) }

    /// Makes `<out>/<suite>` and the JUnit file's directory, and checks that they and
    /// `$GITHUB_STEP_SUMMARY` can be written, before anything is evaluated: a reports directory
    /// that is a file or read-only had failed after the run with Foundation's words and exit 1,
    /// the run left incomplete and its work lost.
    /// - Throws: ``CommandError`` (exit 2) naming the path and what is wrong with it.
    func prepareOutput(suite: String) throws {
        let directory = URL(fileURLWithPath: out).appendingPathComponent(suite)
        try Self.makeWritableDirectory(directory, option: "--out", hint: "give --out a directory you can write to (it is created when missing)")
        if let junitURL {
            if Self.isDirectory(junitURL.path) {
                throw CommandError(message: "--junit \(junitURL.path) is a directory", hint: "give --junit a file path, such as reports/junit.xml")
            }
            // The report replaces the file once the run is recorded: a device, a FIFO or the
            // file stdout goes to would be replaced by a file (run as root, --junit /dev/null had
            // done so).
            if ![.missing, .regular].contains(FileKind(path: junitURL.path)) || AtomicFile.standardDescriptor(for: junitURL) != nil {
                throw CommandError(message: "--junit \(junitURL.path) is not a file of its own (a device, a FIFO, a socket or the output of this command)",
                                   hint: "give --junit a file path, such as reports/junit.xml, or leave --junit out to write no JUnit report")
            }
            try Self.makeWritableDirectory(junitURL.deletingLastPathComponent(), option: "--junit", hint: "give --junit a file in a directory you can write to")
        }
        if let summary = ProcessInfo.processInfo.environment["GITHUB_STEP_SUMMARY"], !summary.isEmpty, Self.isDirectory(summary) {
            throw CommandError(message: "GITHUB_STEP_SUMMARY (\(summary)) is a directory", hint: "set it to a file, or unset it (GitHub Actions sets it to one)")
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    /// Creates `directory` when missing; throws naming the first part of its path that is a file,
    /// or the directory when it cannot be created or written.
    static func makeWritableDirectory(_ directory: URL, option: String, hint: String) throws {
        var ancestor = directory.standardizedFileURL
        while ancestor.path != "/" {
            if FileManager.default.fileExists(atPath: ancestor.path), !isDirectory(ancestor.path) {
                throw CommandError(message: "\(option): \(ancestor.path) is a file, not a directory", hint: hint)
            }
            ancestor.deleteLastPathComponent()
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            var existing = directory.standardizedFileURL
            while existing.path != "/", !FileManager.default.fileExists(atPath: existing.path) { existing.deleteLastPathComponent() }
            let reason = access(existing.path, W_OK) != 0 ? "\(existing.path) is not writable" : error.localizedDescription
            throw CommandError(message: "\(option): cannot create \(directory.path): \(reason)", hint: hint)
        }
        guard access(directory.path, W_OK) == 0 else {
            throw CommandError(message: "\(option): \(directory.path) is not writable", hint: hint)
        }
    }

    /// The `--baseline` run's values from `store`; nil without `--baseline`, or (with a warning)
    /// for `latest` before the suite's first completed run.
    func baselineValues(in store: ResultsStore, suite: String) throws -> Baseline? {
        guard let baseline else { return nil }
        do {
            return try store.baseline(baseline, suite: suite)
        } catch StoreError.noBaseline(let name) where baseline == "latest" {
            Terminal.warning("no completed run of suite '\(name)' yet; max_regression gates are skipped this time")
            return nil
        }
    }
}
