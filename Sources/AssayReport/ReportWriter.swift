import AssayEvaluators
import AssaySuite
import Foundation

/// Writes a run's reports atomically: `<dir>/<suite>/<run-id>.json`, `.md`, `.html` (unless turned
/// off) and `.items.jsonl` (per-item statistics), plus optional JUnit XML and the GitHub step summary.
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

    /// Writes the reports of `outcome`.
    /// - Parameters:
    ///   - junit: where to write JUnit XML, if wanted.
    ///   - stepSummary: a file to append the Markdown to (`$GITHUB_STEP_SUMMARY`).
    ///   - html: also write the self-contained HTML report (``HTMLReport``).
    /// - Throws: when a file cannot be written; nothing is left half-written.
    public func write(_ outcome: RunOutcome, junit: URL?, stepSummary: URL?, html: Bool = true) throws -> Written {
        let folder = directory.appendingPathComponent(outcome.suite)
        let base = folder.appendingPathComponent(outcome.runID)
        var itemsURL: URL?
        if outcome.evaluations.contains(where: { !$0.items.isEmpty }) {
            let url = URL(fileURLWithPath: base.path + ".items.jsonl")
            try AtomicFile.write(Self.itemsJSONL(outcome), to: url)
            itemsURL = url
        }
        for evaluation in outcome.evaluations {
            for artifact in evaluation.artifacts {
                try AtomicFile.write(Data(ChartRenderer.svg(artifact.chart).utf8), to: URL(fileURLWithPath: base.path + "." + Self.artifactSuffix(evaluation, artifact)))
            }
        }
        let document = ReportDocument(outcome, itemsFile: itemsURL?.lastPathComponent)
        let jsonURL = URL(fileURLWithPath: base.path + ".json")
        let markdownURL = URL(fileURLWithPath: base.path + ".md")
        let markdown = MarkdownReport.render(outcome)
        try AtomicFile.write(try document.encoded(), to: jsonURL)
        try AtomicFile.write(Data(markdown.utf8), to: markdownURL)
        if let junit { try AtomicFile.write(Data(JUnitReport.render(outcome).utf8), to: junit) }
        var htmlURL: URL?
        if html {
            let url = URL(fileURLWithPath: base.path + ".html")
            try AtomicFile.write(Data(HTMLReport.render(HTMLReport.Run(outcome, itemsFile: itemsURL?.lastPathComponent)).utf8), to: url)
            htmlURL = url
        }
        if let stepSummary { try Self.append(markdown, to: stepSummary) }
        return Written(json: jsonURL, markdown: markdownURL, items: itemsURL, junit: junit, html: htmlURL)
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

    static func append(_ text: String, to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            try Data().write(to: url)
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data((text + "\n").utf8))
    }
}
