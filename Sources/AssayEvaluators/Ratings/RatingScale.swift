import AssayMetrics
import Foundation

/// The declared scale of a ratings set: ordered categories, or numeric scores (optionally
/// binned into ordered categories). Weighted kappa and ordinal statistics follow this order,
/// never the sort order of the labels.
public enum RatingScale: Sendable, Equatable, Codable {
    /// Labels in their order (`--scale bad,ok,good`).
    case categories([String])
    /// Numeric scores; with `bins` edges e₁ < … < e_m they fall into m + 1 ordered categories
    /// (category = number of edges strictly below the score: ≤ e₁, (e₁, e₂], …, > e_m).
    /// Without bins every distinct score is a category, ordered by value.
    case numeric(bins: [Double]?)

    /// Category names in order, given the numeric values seen (used for unbinned numeric scales).
    public func categoryNames(values: [Double] = []) -> [String] {
        switch self {
        case let .categories(names): return names
        case let .numeric(bins?):
            let e = bins.map(Self.format)
            return ["≤\(e[0])"] + zip(e, e.dropFirst()).map { "(\($0),\($1)]" } + [">\(e[e.count - 1])"]
        case .numeric(nil):
            return Set(values).sorted().map(Self.format)
        }
    }

    /// Whether ratings carry numbers.
    public var isNumeric: Bool { if case .numeric = self { return true } else { return false } }

    /// A short description for listings and signatures (`categories:bad,ok,good`, `bins:0,5,10`, `numeric`).
    public var description: String {
        switch self {
        case let .categories(names): return "categories:" + names.joined(separator: ",")
        case let .numeric(bins?): return "bins:" + bins.map(Self.format).joined(separator: ",")
        case .numeric(nil): return "numeric"
        }
    }

    /// Parses `--scale a,b,c`, `--bins 0,5,10` or `--numeric`.
    /// - Throws: ``RatingsError/invalidScale(_:)`` for empty, duplicate or unordered values.
    public static func parse(scale: String?, bins: String?, numeric: Bool) throws -> RatingScale {
        switch (scale, bins, numeric) {
        case let (scale?, nil, false):
            let names = scale.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.count >= 2, !names.contains("") else {
                throw RatingsError.invalidScale("--scale needs at least two comma-separated labels, e.g. 1,2,3,4,5 or bad,ok,good")
            }
            guard Set(names).count == names.count else { throw RatingsError.invalidScale("--scale lists a label twice") }
            return .categories(names)
        case let (nil, bins?, _):
            let parts = bins.split(separator: ",").map { RatingSet.number($0) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else {
                throw RatingsError.invalidScale("--bins takes increasing numbers, e.g. 0,5,10")
            }
            let edges = parts.map { $0! }
            guard zip(edges, edges.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw RatingsError.invalidScale("--bins edges must increase strictly")
            }
            return .numeric(bins: edges)
        case (nil, nil, true):
            return .numeric(bins: nil)
        case (nil, nil, false):
            throw RatingsError.invalidScale("declare the scale: --scale 1,2,3,4,5 (ordered labels), --bins 0,5,10 (numeric scores binned) or --numeric")
        default:
            throw RatingsError.invalidScale("give only one of --scale, --bins and --numeric")
        }
    }

    /// The category index of a raw label, or nil when it is outside the scale.
    /// - Parameter numericCategories: for unbinned numeric scales, the sorted distinct values.
    func category(of label: String, numericCategories: [Double] = []) -> (index: Int, value: Double?)? {
        switch self {
        case let .categories(names):
            return names.firstIndex(of: label).map { ($0, nil) }
        case let .numeric(bins):
            guard let value = RatingSet.number(label) else { return nil }
            if let bins { return (bins.filter { $0 < value }.count, value) }
            return numericCategories.firstIndex(of: value).map { ($0, value) }
        }
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
