import AssayCore
import AssayStats
import AssayMetrics
import Foundation

/// One validated rating: item, rater, category index on the scale, and the number for numeric scales.
public struct Rating: Sendable, Equatable, Hashable, Codable {
    public var item: String
    public var rater: String
    public var category: Int
    public var value: Double?

    public init(item: String, rater: String, category: Int, value: Double?) {
        self.item = item
        self.rater = rater
        self.category = category
        self.value = value
    }
}

/// A named set of ratings on a declared scale.
public struct RatingSet: Sendable, Equatable {
    /// Set name.
    public var name: String
    /// Declared scale.
    public var scale: RatingScale
    /// Category names in scale order.
    public var categories: [String]
    /// Ratings sorted by item, then rater.
    public var ratings: [Rating]

    /// Creates a set.
    public init(name: String, scale: RatingScale, categories: [String], ratings: [Rating]) {
        self.name = name
        self.scale = scale
        self.categories = categories
        self.ratings = ratings
    }

    /// Distinct items, sorted.
    public var items: [String] { Array(Set(ratings.map(\.item))).sorted() }
    /// Distinct raters, sorted.
    public var raters: [String] { Array(Set(ratings.map(\.rater))).sorted() }

    /// Numeric value of each category for correlations and consensus (human-agreement): the
    /// score itself for unbinned numeric scales, otherwise the category's position (0, 1, …) —
    /// the declared order, whatever the labels say. Krippendorff's interval and ratio levels read
    /// the labels' numbers instead (``krippendorffValues(level:)``).
    public var categoryValues: [Double] {
        if case .numeric(nil) = scale { return categories.compactMap { Self.number($0) } }
        return categories.indices.map(Double.init)
    }

    /// A label as a finite number in decimal notation (digits, sign, point, exponent), if it is
    /// one: Swift's `Double(_:)` alone also reads "0x10" as 16, which Python's float refuses.
    static func number(_ label: some StringProtocol) -> Double? {
        let text = label.trimmingCharacters(in: .whitespaces)
        guard text.utf8.allSatisfy({ (0x30...0x39).contains($0) || [0x2B, 0x2D, 0x2E, 0x45, 0x65].contains($0) }) else { return nil }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    /// The categories as numbers when every one of them is a finite number, else nil.
    var numericLabels: [Double]? {
        if case .numeric(bins: _?) = scale { return nil }
        let values = categories.compactMap { Self.number($0) }
        return values.count == categories.count ? values : nil
    }

    /// The values Krippendorff's alpha measures distances between at `level`: positions serve
    /// nominal and ordinal; interval and ratio need the labels' numbers (on a binned scale, the
    /// bins' positions).
    /// - Throws: ``RatingsError/levelNeedsNumbers(level:labels:)`` for interval or ratio on
    ///   labels that are not all numbers, ``RatingsError/ratioNeedsNonNegative(labels:)`` for
    ///   ratio on negative ones.
    public func krippendorffValues(level: KrippendorffAlpha.Level) throws -> [Double] {
        switch level {
        case .nominal, .ordinal: return categories.indices.map(Double.init)
        case .interval, .ratio:
            if case .numeric(bins: _?) = scale { return categories.indices.map(Double.init) }
            guard let numbers = numericLabels else {
                throw RatingsError.levelNeedsNumbers(level: level.rawValue,
                                                     labels: categories.filter { Self.number($0) == nil })
            }
            // The ratio distance, ((a − b)/(a + b))², needs a scale that starts at 0: -1 against 1
            // would count as no disagreement at all.
            if level == .ratio, numbers.contains(where: { $0 < 0 }) {
                throw RatingsError.ratioNeedsNonNegative(labels: zip(categories, numbers).filter { $0.1 < 0 }.map(\.0))
            }
            return numbers
        }
    }

    /// SHA-256 over the sorted ratings and the scale: identical content has the same hash.
    public var contentHash: String {
        var bytes = [UInt8](scale.description.utf8)
        bytes.append(0x0A)
        bytes.reserveCapacity(ratings.count * 24)
        for r in ratings {
            bytes += r.item.utf8
            bytes.append(0x09)
            bytes += r.rater.utf8
            bytes.append(0x09)
            bytes += String(r.category).utf8
            bytes.append(0x09)
            if let value = r.value { bytes += String(value).utf8 }
            bytes.append(0x0A)
        }
        return SHA256.hex(Data(bytes))
    }

    /// Checks raw ratings against `scale`: labels outside it, and the same item and rater with
    /// two different labels, are problems (the same label twice is read once).
    /// - Throws: ``RatingsError/malformed(path:problems:total:)`` listing up to 20 problems.
    public static func build(name: String, scale: RatingScale, raw: [RawRating], path: String, readProblems: [String]) throws -> RatingSet {
        var problems = readProblems
        var numericCategories: [Double] = []
        if case .numeric(nil) = scale {
            var values = Set<Double>()
            for r in raw {
                if let v = number(r.label) { values.insert(v) }
            }
            numericCategories = values.sorted()
        }
        // Intern items and raters so that duplicates are found and ratings sorted by integer keys.
        var itemIDs: [String: Int] = [:], raterIDs: [String: Int] = [:]
        var items: [String] = [], raters: [String] = []
        var seen: [UInt64: Int] = [:]  // (item, rater) → index into raw of the first rating
        var keyed: [(key: UInt64, rating: Rating)] = []
        keyed.reserveCapacity(raw.count)
        let names = scale.categoryNames(values: numericCategories)
        for (index, r) in raw.enumerated() {
            // A NUL (a raw byte, or JSON's \u0000) would cut the id short in the store.
            if r.item.utf8.contains(0) || r.rater.utf8.contains(0) || r.label.utf8.contains(0) {
                problems.append("\(r.location): a NUL character in the item, rater or label (ids and labels cannot hold one)")
                continue
            }
            guard let (category, value) = scale.category(of: r.label, numericCategories: numericCategories) else {
                let expected = scale.isNumeric ? "a number" : "one of \(names.joined(separator: ", "))"
                problems.append("\(r.location): label \(RatingsFile.quoted(r.label)) is not on the scale (expected \(expected))")
                continue
            }
            let item = itemIDs[r.item] ?? { let id = items.count; itemIDs[r.item] = id; items.append(r.item); return id }()
            let rater = raterIDs[r.rater] ?? { let id = raters.count; raterIDs[r.rater] = id; raters.append(r.rater); return id }()
            let key = UInt64(item) << 32 | UInt64(rater)
            if let first = seen[key] {
                if raw[first].label != r.label {
                    problems.append("\(r.location): item \(RatingsFile.quoted(r.item)) rated by \(RatingsFile.quoted(r.rater)) again with \(RatingsFile.quoted(r.label)) (\(raw[first].location) says \(RatingsFile.quoted(raw[first].label)))")
                }
                continue
            }
            seen[key] = index
            keyed.append((key, Rating(item: r.item, rater: r.rater, category: category, value: value)))
        }
        if raw.isEmpty && problems.isEmpty { problems.append("no ratings found") }
        guard problems.isEmpty else {
            problems = problems.enumerated().sorted { (Self.position($0.element), $0.offset) < (Self.position($1.element), $1.offset) }.map(\.element)
            throw RatingsError.malformed(path: path, problems: Array(problems.prefix(20)), total: problems.count)
        }
        // Sort by item, then rater, through ranks of the interned strings.
        var itemRank = [Int](repeating: 0, count: items.count), raterRank = [Int](repeating: 0, count: raters.count)
        for (rank, id) in items.indices.sorted(by: { items[$0] < items[$1] }).enumerated() { itemRank[id] = rank }
        for (rank, id) in raters.indices.sorted(by: { raters[$0] < raters[$1] }).enumerated() { raterRank[id] = rank }
        func order(_ key: UInt64) -> UInt64 { UInt64(itemRank[Int(key >> 32)]) << 32 | UInt64(raterRank[Int(key & 0xFFFF_FFFF)]) }
        let ratings = keyed.map { (order($0.key), $0.rating) }.sorted { $0.0 < $1.0 }.map(\.1)
        return RatingSet(name: name, scale: scale, categories: names, ratings: ratings)
    }

    /// The number in a problem's leading `line N` / `task N`, for sorting (0 when there is none).
    static func position(_ problem: String) -> Int {
        let words = problem.split(separator: " ", maxSplits: 2)
        guard words.count > 1 else { return 0 }
        return Int(words[1].trimmingCharacters(in: CharacterSet(charactersIn: ":"))) ?? 0
    }

    /// Reads and validates a ratings file.
    public static func load(_ url: URL, name: String, format: RatingsFormat, columns: RatingsColumns, scale: RatingScale) throws -> RatingSet {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RatingsError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        let (raw, problems) = RatingsFile.read(data, path: url.path, format: format, columns: columns)
        return try build(name: name, scale: scale, raw: raw, path: url.path, readProblems: problems)
    }
}

extension RatingSet {
    /// Loads a `ratings` dataset of a suite (the set is named after the file).
    public static func load(_ spec: DatasetSpec, evaluator: String) throws -> RatingSet {
        guard case let .ratings(path, format, columns, scale) = spec else {
            throw EvaluatorError.wrongDatasetKind(evaluator: evaluator, got: spec.kind.rawValue, accepted: ["ratings"])
        }
        return try load(path, name: path.lastPathComponent, format: format, columns: columns, scale: scale)
    }
}
