import ArgumentParser
import AssayEvaluators
import AssayStats
import AssayReport
import AssayStore
import Foundation

extension KappaWeighting: ExpressibleByArgument {}
extension KrippendorffAlpha.Level: ExpressibleByArgument {}

extension AssayCommand {
    /// `assay agreement`: inter-rater agreement of a ratings set or file.
    struct Agreement: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Inter-rater agreement: pairwise Cohen's kappa (ASE, 95 % CI), Fleiss, Randolph, Krippendorff's alpha.",
            discussion: """
                Kappa and its ASE/CI follow statsmodels (kappa equals scikit-learn's cohen_kappa_score); \
                weighted kappa follows the declared category order. Fleiss' and Randolph's kappa use the \
                items with the most common number of raters (the output says how many were left out); \
                Krippendorff's alpha uses every item and allows missing ratings. Undefined values are null \
                with a reason.

                Examples:
                  assay agreement --set wmt23 --weights quadratic
                  assay agreement ratings.csv --scale 1,2,3,4,5 --weights linear --format json
                """)

        @Argument(help: ArgumentHelp("A ratings file (instead of --set; read with the options below).", valueName: "file"))
        var file: String?

        @Option(name: .long, help: ArgumentHelp("A ratings set in the store.", valueName: "name"))
        var set: String?

        @Option(name: .long, help: "Kappa weights: none, linear or quadratic.")
        var weights: KappaWeighting = .none

        @Option(name: .long, help: "Krippendorff level: nominal, ordinal, interval or ratio.")
        var level: KrippendorffAlpha.Level = .ordinal

        @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Also a bootstrap 95 % CI per pair with this many resamples.", valueName: "n"))
        var bootstrap: Int?

        @Option(name: .long, parsing: .unconditional, help: "Bootstrap seed.")
        var seed: UInt64 = 12345

        @Option(name: .long, help: "text, md or json.")
        var format: OutputFormat = .text

        @Option(name: .long, help: ArgumentHelp("Also write an SVG heatmap of pairwise kappa here.", valueName: "file"))
        var svg: String?

        @Option(name: .customLong("input-format"), help: ArgumentHelp("Format of FILE: csv, tsv, jsonl or label-studio (default: from the extension).", valueName: "format"))
        var inputFormat: RatingsFormat?

        @OptionGroup var input: RatingsInputOptions

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if (file == nil) == (set == nil) { throw ValidationError("give a ratings FILE or --set NAME (one of them)") }
            if let bootstrap, !(1...Bootstrap.maximumResamples).contains(bootstrap) {
                throw ValidationError("--bootstrap must be 1 to \(Bootstrap.maximumResamples) resamples")
            }
        }

        func run() async throws {
            let ratings: RatingSet
            if let set { ratings = try storeOptions.open().ratingSet(set) } else { ratings = try input.load(file!, name: URL(fileURLWithPath: file!).lastPathComponent, format: inputFormat) }
            let analysis = try AgreementAnalysis(ratings, weighting: weights, level: level,
                                             bootstrap: bootstrap.map { .init(resamples: $0, seed: seed) })
            if let svg {
                try AtomicFile.write(Data(ChartRenderer.svg(analysis.kappaChart).utf8), to: URL(fileURLWithPath: svg))
            }
            switch format {
            case .json: try JSONOutput.print(analysis)
            case .md, .text: Terminal.output(AgreementMarkdown.render(analysis))
            }
        }
    }
}
