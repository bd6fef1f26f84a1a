import ArgumentParser
import AssayCore
import AssayEvaluators
import AssayReport
import AssayStore
import AssaySuite
import Foundation

extension AssayCommand {
    /// `assay merge`: the shards of a run back into one run, its gates, reports and store entry.
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the shard files of `assay run --shard I/N` into one run: reports, gates, store.",
            discussion: """
                Refuses shards of another suite file (by hash), another shard count, a missing or \
                repeated shard, differing models (by sha256), an interrupted shard, and an evaluation \
                whose signature differs between shards. Item evaluations (bleu, chrf, perplexity, \
                generation, quant-drift, bertscore, encoder-drift) get their metrics and bootstrap \
                intervals from every shard's rows in shard order — the numbers an unsharded run gives; \
                throughput and serving ran whole in shard 1; those reading other evaluations (agreement, paired-delta, \
                inter-rater) run here on the merged items. Then it writes the reports, judges the \
                gates, records the run and exits as `assay run` does (0 pass, 1 gate failed, 2 error).

                Examples:
                  assay merge reports/release/shard-*-of-4.json
                  assay merge shards/*.json --suite suites/release.yaml --baseline latest --junit reports/junit.xml
                """)

        @Argument(help: ArgumentHelp("The shard files (shard-I-of-N.json), one per shard.", valueName: "shard.json"))
        var shards: [String]

        @Option(name: .long, help: ArgumentHelp("The suite file, when it is not where the shards ran it (its hash must match).", valueName: "suite"))
        var suite: String?

        @OptionGroup var report: RunReportOptions

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            guard !shards.isEmpty else { throw ValidationError("give the shard files to merge") }
            let shardReports = try shards.map { try ShardReport.load(URL(fileURLWithPath: $0)) }
            let suiteURL = URL(fileURLWithPath: suite ?? shardReports[0].suiteFile)
            let loaded: Suite
            do {
                loaded = try SuiteLoader().load(suiteURL)
            } catch let error as SuiteError {
                for diagnostic in error.diagnostics { Terminal.error("error: \(diagnostic)\n") }
                if suite == nil { Terminal.error("hint: the shards ran \(suiteURL.path); give --suite where it is here\n") }
                throw ExitCode(2)
            }
            try report.prepareOutput(suite: loaded.name)
            let store = try storeOptions.open()
            let identity = SuiteRunner.RunIdentity(runID: SuiteRunner.RunIdentity.newRunID(), host: ProcessInfo.processInfo.hostName,
                                                   gitCommit: shardReports[0].gitCommit ?? GitInfo.head())
            let baselineValues = try report.baselineValues(in: store, suite: loaded.name)
            let models = shardReports[0].models
            let outcome = try await SuiteRunner(progress: TerminalProgress())
                .merge(loaded, shards: shardReports, identity: identity, models: models, baseline: baselineValues)
            try store.begin(runID: identity.runID, suite: loaded, started: outcome.started, host: identity.host,
                            gitCommit: identity.gitCommit, models: models,
                            scratchDirectories: report.writer.scratchDirectories(suite: loaded.name, junit: report.junitURL))
            try report.recorder.record(outcome, in: store)
            Terminal.error("merged \(shardReports.count) shards (runs \(shardReports.map(\.runID).sorted().joined(separator: ", ")))\n")
            if outcome.verdict != .pass { throw ExitCode(outcome.verdict.exitCode) }
        }
    }
}
