import ArgumentParser
import AssayEvaluators
import Foundation

extension RatingsFormat: ExpressibleByArgument {}

/// How to read a ratings file: column mapping and the declared scale (the file format option
/// is declared by each command, as `--format` collides with output formats).
struct RatingsInputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Column/field with the item id; several joined with '#' (e.g. system,seg_id).", valueName: "name[,name…]"))
    var item: String = "item"

    @Option(name: .long, help: ArgumentHelp("Column/field with the rater id.", valueName: "name"))
    var rater: String = "rater"

    @Option(name: .long, help: ArgumentHelp("Column/field with the label (Label Studio: the result's from_name).", valueName: "name"))
    var label: String = "label"

    @Option(name: .long, help: ArgumentHelp("Ordered categories, worst to best or in their natural order: 1,2,3,4,5 or bad,ok,good.", valueName: "labels"))
    var scale: String?

    @Option(name: .long, help: ArgumentHelp("Numeric scores binned at these edges: 0,5,10 gives 4 ordered categories (≤0, (0,5], (5,10], >10).", valueName: "edges"))
    var bins: String?

    @Flag(name: .long, help: "Numeric scores, each distinct value a category ordered by value.")
    var numeric = false

    var columns: RatingsColumns {
        RatingsColumns(item: item.split(separator: ",").map { String($0) }, rater: rater, label: label)
    }

    static func resolvedFormat(_ format: RatingsFormat?, for path: String) throws -> RatingsFormat {
        if let format { return format }
        guard let guessed = RatingsFormat.guess(path) else {
            throw ValidationError("cannot tell the format of \(path) from its extension; pass --format csv|tsv|jsonl|label-studio")
        }
        return guessed
    }

    func scaleValue() throws -> RatingScale {
        do { return try RatingScale.parse(scale: scale, bins: bins, numeric: numeric) } catch let error as RatingsError {
            throw ValidationError(error.errorDescription ?? "invalid scale")
        }
    }

    /// Reads and validates `path` as set `name`.
    func load(_ path: String, name: String, format: RatingsFormat?) throws -> RatingSet {
        try RatingSet.load(URL(fileURLWithPath: path), name: name, format: try Self.resolvedFormat(format, for: path), columns: columns,
                           scale: try scaleValue())
    }
}
