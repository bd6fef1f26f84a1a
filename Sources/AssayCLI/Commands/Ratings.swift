import ArgumentParser
import AssayEvaluators
import AssayStore
import Foundation

extension AssayCommand {
    /// `assay ratings`: import and inspect human ratings.
    struct Ratings: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import and inspect human ratings (for `assay agreement` and the agreement evaluator).",
            subcommands: [Import.self, ListSets.self, ShowSet.self])

        struct Import: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Import a ratings file into the store: all of it or nothing.",
                discussion: """
                    Every row needs an item, a rater and a label on the declared scale. Any malformed row \
                    (missing field, label off the scale, the same item and rater with two labels, bad UTF-8) \
                    imports nothing; up to 20 problems are listed with line numbers. Importing identical \
                    content again changes nothing; other content for an existing set needs --append or --replace.

                    Examples:
                      assay ratings import ratings.csv --set pilot --scale 1,2,3,4,5
                      assay ratings import mqm.jsonl --set wmt23 --item system,seg_id --label mqm_score --bins 0,5,10
                      assay ratings import export.json --format label-studio --set ls --scale bad,ok,good
                    """)

            @Argument(help: ArgumentHelp("Ratings file.", valueName: "file"))
            var file: String

            @Option(name: .long, help: ArgumentHelp("Name of the ratings set.", valueName: "name"))
            var set: String

            @Option(name: .long, help: ArgumentHelp("csv, tsv, jsonl or label-studio (default: from the file extension).", valueName: "format"))
            var format: RatingsFormat?

            @OptionGroup var input: RatingsInputOptions

            @Flag(name: .long, help: "Add to an existing set.")
            var append = false

            @Flag(name: .long, help: "Replace an existing set.")
            var replace = false

            @OptionGroup var storeOptions: StoreOptions

            func validate() throws {
                if append && replace { throw ValidationError("give --append or --replace, not both") }
                guard set.range(of: "^[A-Za-z0-9][A-Za-z0-9._-]*$", options: .regularExpression) != nil else {
                    throw ValidationError("--set: use letters, digits, '.', '_' and '-'")
                }
            }

            func run() async throws {
                let ratings = try input.load(file, name: set, format: format)
                let outcome = try storeOptions.open().importRatings(ratings, mode: append ? .append : (replace ? .replace : .new))
                let size = "\(ratings.items.count) items, \(ratings.raters.count) raters, scale \(ratings.scale.description)"
                switch outcome {
                case let .created(n): Terminal.output("imported \(n) ratings into new set '\(set)' (\(size))")
                case .unchanged: Terminal.output("set '\(set)' already holds this content; nothing changed")
                case let .appended(n): Terminal.output("appended \(n) ratings to set '\(set)'")
                case let .replaced(n): Terminal.output("replaced set '\(set)' with \(n) ratings (\(size))")
                }
            }
        }

        struct ListSets: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List ratings sets in the store.")

            @Option(name: .long, help: "text or json.")
            var format: OutputFormat = .text

            @OptionGroup var storeOptions: StoreOptions

            func run() async throws {
                let sets = try storeOptions.open().ratingSets()
                if format == .json { try JSONOutput.print(sets); return }
                if sets.isEmpty { Terminal.output("no ratings sets; import one with `assay ratings import FILE --set NAME --scale …`"); return }
                for s in sets { Terminal.output("\(s.name): \(s.ratings) ratings, \(s.items) items, \(s.raters) raters, \(s.scale), updated \(s.updated)") }
            }
        }

        struct ShowSet: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a ratings set: scale, raters and label counts.")

            @Argument(help: ArgumentHelp("Set name.", valueName: "set"))
            var set: String

            @OptionGroup var storeOptions: StoreOptions

            func run() async throws {
                let ratings = try storeOptions.open().ratingSet(set)
                Terminal.output("set \(ratings.name): \(ratings.ratings.count) ratings, \(ratings.items.count) items, scale \(ratings.scale.description)")
                var perCategory = [Int](repeating: 0, count: ratings.categories.count)
                var perRater: [String: Int] = [:]
                for r in ratings.ratings {
                    perCategory[r.category] += 1
                    perRater[r.rater, default: 0] += 1
                }
                Terminal.output("categories:")
                for (name, count) in zip(ratings.categories, perCategory) { Terminal.output("  \(name): \(count)") }
                Terminal.output("raters:")
                for rater in perRater.keys.sorted() { Terminal.output("  \(rater): \(perRater[rater]!) ratings") }
            }
        }
    }
}
