import AssayEvaluators
import AssaySuite
import Foundation

/// Writes a run's reports: `<dir>/<suite>/<run-id>.json`, `.md`, `.html` (unless turned off) and
/// `.items.jsonl` (per-item statistics), plus optional JUnit XML and the GitHub step summary. Each
/// is written whole under a pending name and then renamed into place, so a reader sees a whole
/// report or none; `assay run` stores the run between the two steps.
public struct ReportWriter: Sendable {
    /// The reports root (default `reports/`).
    public var directory: URL

    /// Creates a writer rooted at `directory`.
    public init(directory: URL) { self.directory = directory }

    /// Paths of the files written.
    public struct Written: Sendable {
        public var json: URL
        public var markdown: URL
        public var items: URL?
        public var junit: URL?
        public var html: URL?
    }

    /// Writes the reports of `outcome` and moves them into place (``prepare(_:junit:html:)``, then
    /// ``Pending/complete()``), then appends the Markdown to `stepSummary`.
    /// - Parameters:
    ///   - junit: where to write JUnit XML, if wanted.
    ///   - stepSummary: a file to append the Markdown to (`$GITHUB_STEP_SUMMARY`).
    ///   - html: also write the self-contained HTML report (``HTMLReport``).
    /// - Throws: when a file cannot be written; nothing is left half-written.
    public func write(_ outcome: RunOutcome, junit: URL?, stepSummary: URL?, html: Bool = true) throws -> Written {
        let pending = try prepare(outcome, junit: junit, html: html)
        try pending.complete()
        if let stepSummary { try Self.append(pending.markdown, to: stepSummary) }
        return pending.written
    }

    /// Reports written under pending names, to be moved into place once the store has committed
    /// the run (``complete()``); a crash in between leaves them for the store's recovery.
    public struct Pending: Sendable {
        /// Where each file is now and where it goes.
        public var files: [(pending: URL, final: URL)]
        /// The final paths.
        public var written: Written
        /// The Markdown report (for the step summary).
        public var markdown: String

        /// Moves every file into place (each rename is atomic).
        /// - Throws: when a file can be neither moved nor found in place.
        public func complete() throws {
            for file in files where rename(file.pending.path, file.final.path) != 0 {
                guard errno == ENOENT, FileManager.default.fileExists(atPath: file.final.path) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.final.path])
                }
            }
        }
    }

    /// The pending name of `url` for run `runID`: hidden, beside it, naming the run, so that
    /// what a killed run left can be told apart and removed.
    public static func pendingURL(_ url: URL, runID: String) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(runID).pending")
    }

    /// The directories a run's pending files go to: the suite's report folder and JUnit's.
    public func scratchDirectories(suite: String, junit: URL?) -> [String] {
        Array(Set([directory.appendingPathComponent(suite).path] + (junit.map { [$0.deletingLastPathComponent().path] } ?? []))).sorted()
    }

    /// Writes every report of `outcome` under its pending name (secrets masked, as ``AtomicFile``
    /// does); on an error removes what it wrote.
    public func prepare(_ outcome: RunOutcome, junit: URL?, html: Bool = true) throws -> Pending {
        let folder = directory.appendingPathComponent(outcome.suite)
        let base = folder.appendingPathComponent(outcome.runID)
        var files: [(pending: URL, final: URL)] = []
        func put(_ data: Data, _ url: URL) throws {
            let pending = Self.pendingURL(url, runID: outcome.runID)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            files.append((pending, url))
            try AtomicFile.scrubbed(data).write(to: pending)
        }
        do {
            var itemsURL: URL?
            if outcome.evaluations.contains(where: { !$0.items.isEmpty }) {
                let url = URL(fileURLWithPath: base.path + ".items.jsonl")
                try put(Self.itemsJSONL(outcome), url)
                itemsURL = url
            }
            for evaluation in outcome.evaluations {
                for artifact in evaluation.artifacts {
                    try put(Data(ChartRenderer.svg(artifact.chart).utf8), URL(fileURLWithPath: base.path + "." + Self.artifactSuffix(evaluation, artifact)))
                }
            }
            let document = ReportDocument(outcome, itemsFile: itemsURL?.lastPathComponent)
            let jsonURL = URL(fileURLWithPath: base.path + ".json"), markdownURL = URL(fileURLWithPath: base.path + ".md")
            let markdown = MarkdownReport.render(outcome)
            try put(try document.encoded(), jsonURL)
            try put(Data(markdown.utf8), markdownURL)
            if let junit { try put(Data(JUnitReport.render(outcome).utf8), junit) }
            var htmlURL: URL?
            if html {
                let url = URL(fileURLWithPath: base.path + ".html")
                try put(Data(HTMLReport.render(HTMLReport.Run(outcome, itemsFile: itemsURL?.lastPathComponent)).utf8), url)
                htmlURL = url
            }
            return Pending(files: files, written: Written(json: jsonURL, markdown: markdownURL, items: itemsURL, junit: junit, html: htmlURL),
                           markdown: markdown)
        } catch {
            for file in files { try? FileManager.default.removeItem(at: file.pending) }
            throw error
        }
    }

    /// `<evaluation>.<artifact name>`, the part after `<run-id>.` in an artifact's file name.
    public static func artifactSuffix(_ evaluation: EvaluationOutcome, _ artifact: Artifact) -> String {
        "\(evaluation.id).\(artifact.name)"
    }

    /// One JSON object per line: `{"evaluation","id","values"}`.
    static func itemsJSONL(_ outcome: RunOutcome) throws -> Data {
        struct Line: Encodable { var evaluation: String; var id: String; var values: [String: JSONValue] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for e in outcome.evaluations {
            for item in e.items {
                data.append(try encoder.encode(Line(evaluation: e.id, id: item.id, values: item.values)))
                data.append(0x0A)
            }
        }
        return data
    }

    public static func append(_ text: String, to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            try Data().write(to: url)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((text + "\n").utf8))
    }
}
