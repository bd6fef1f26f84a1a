import AssayEvaluators
import Foundation
import GRDB

/// A ratings set as listed by `assay ratings list`.
public struct RatingSetSummary: Sendable, Equatable, Codable {
    public var name: String
    public var scale: String
    public var items: Int
    public var raters: Int
    public var ratings: Int
    public var updated: String
}

/// What an import did.
public enum RatingsImportOutcome: Sendable, Equatable {
    /// A new set with this many ratings.
    case created(Int)
    /// The same content was already stored; nothing changed.
    case unchanged
    /// This many new ratings were added to the set.
    case appended(Int)
    /// The set now holds exactly the imported ratings.
    case replaced(Int)
}

extension ResultsStore {
    /// How an import treats an existing set of the same name.
    public enum ImportMode: Sendable {
        /// Fail unless the content is identical (then nothing happens).
        case new
        /// Add ratings; a different label for an existing item and rater is an error.
        case append
        /// Replace the set's ratings.
        case replace
    }

    static func registerRatingMigrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v2 rating sets") { db in
            try db.create(table: "rating_sets") { t in
                t.primaryKey("name", .text)
                t.column("scale", .text).notNull()
                t.column("categories", .text).notNull()
                t.column("content_hash", .text).notNull()
                t.column("created", .text).notNull()
                t.column("updated", .text).notNull()
            }
            try db.create(table: "ratings") { t in
                t.column("set_name", .text).notNull().references("rating_sets", onDelete: .cascade)
                t.column("item", .text).notNull()
                t.column("rater", .text).notNull()
                t.column("category", .integer).notNull()
                t.column("value", .double)
                t.primaryKey(["set_name", "item", "rater"])
            }
        }
    }

    /// Stores `set` in one transaction: all of it or nothing.
    /// - Throws: ``RatingsError/setExists(name:)`` or ``RatingsError/conflict(name:message:)``.
    public func importRatings(_ set: RatingSet, mode: ImportMode) throws -> RatingsImportOutcome {
        let encoder = JSONEncoder()
        let scaleJSON = String(decoding: try encoder.encode(set.scale), as: UTF8.self)
        let categoriesJSON = String(decoding: try encoder.encode(set.categories), as: UTF8.self)
        let now = Self.timestamp(Date())
        return try write { db -> RatingsImportOutcome in
            let existing = try Row.fetchOne(db, sql: "SELECT scale, content_hash FROM rating_sets WHERE name = ?", arguments: [set.name])
            var toInsert = set.ratings
            var outcome = RatingsImportOutcome.created(set.ratings.count)
            if let existing {
                let hash: String = existing["content_hash"]
                if hash == set.contentHash { return .unchanged }
                switch mode {
                case .new:
                    throw RatingsError.setExists(name: set.name)
                case .replace:
                    try db.execute(sql: "DELETE FROM ratings WHERE set_name = ?", arguments: [set.name])
                    outcome = .replaced(set.ratings.count)
                case .append:
                    let storedScale: String = existing["scale"]
                    guard storedScale == scaleJSON else {
                        throw RatingsError.conflict(name: set.name, message: "the stored scale differs from this import's scale")
                    }
                    var stored: [String: Int] = [:]
                    for row in try Row.fetchAll(db, sql: "SELECT item, rater, category FROM ratings WHERE set_name = ?", arguments: [set.name]) {
                        stored[(row["item"] as String) + "\u{0}" + (row["rater"] as String)] = row["category"]
                    }
                    var conflicts: [String] = []
                    toInsert = set.ratings.filter { r in
                        guard let category = stored[r.item + "\u{0}" + r.rater] else { return true }
                        if category != r.category {
                            conflicts.append("item '\(r.item)' rater '\(r.rater)': stored '\(set.categories[category])', file '\(set.categories[r.category])'")
                        }
                        return false
                    }
                    guard conflicts.isEmpty else {
                        throw RatingsError.conflict(name: set.name, message: "\(conflicts.count) rating(s) differ from the stored ones: "
                                                    + conflicts.prefix(5).joined(separator: "; "))
                    }
                    if toInsert.isEmpty { return .unchanged }
                    outcome = .appended(toInsert.count)
                }
            }
            if existing == nil {
                try db.execute(sql: "INSERT INTO rating_sets (name, scale, categories, content_hash, created, updated) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [set.name, scaleJSON, categoriesJSON, set.contentHash, now, now])
            }
            try Self.insert(toInsert, set: set.name, db)
            if existing != nil {
                // The stored content now differs from the file's: hash what the set holds.
                let combined = outcome == .replaced(set.ratings.count) ? set
                    : try self.fetchRatingSet(db, name: set.name, scale: set.scale, categories: set.categories)
                try db.execute(sql: "UPDATE rating_sets SET content_hash = ?, updated = ?, scale = ?, categories = ? WHERE name = ?",
                               arguments: [combined.contentHash, now, scaleJSON, categoriesJSON, set.name])
            }
            return outcome
        }
    }

    /// Inserts ratings 200 rows per statement (far fewer statement executions than one per row).
    static func insert(_ ratings: [Rating], set: String, _ db: Database) throws {
        let batch = 200
        let row = "(?, ?, ?, ?, ?)"
        let full = try db.makeStatement(sql: "INSERT INTO ratings (set_name, item, rater, category, value) VALUES "
                                         + Array(repeating: row, count: batch).joined(separator: ", "))
        var start = 0
        while start < ratings.count {
            let chunk = ratings[start..<min(start + batch, ratings.count)]
            var values: [(any DatabaseValueConvertible)?] = []
            values.reserveCapacity(chunk.count * 5)
            for r in chunk { values += [set, r.item, r.rater, r.category, r.value] }
            if chunk.count == batch {
                try full.execute(arguments: StatementArguments(values))
            } else {
                try db.execute(sql: "INSERT INTO ratings (set_name, item, rater, category, value) VALUES "
                               + Array(repeating: row, count: chunk.count).joined(separator: ", "), arguments: StatementArguments(values))
            }
            start += batch
        }
    }

    func fetchRatingSet(_ db: Database, name: String, scale: RatingScale, categories: [String]) throws -> RatingSet {
        let rows = try Row.fetchCursor(db, sql: "SELECT item, rater, category, value FROM ratings WHERE set_name = ? ORDER BY item, rater",
                                       arguments: [name])
        var ratings: [Rating] = []
        while let row = try rows.next() {
            ratings.append(Rating(item: row["item"], rater: row["rater"], category: row["category"], value: row["value"]))
        }
        return RatingSet(name: name, scale: scale, categories: categories, ratings: ratings)
    }

    /// The stored set `name`.
    /// - Throws: ``RatingsError/unknownSet(name:known:)``.
    public func ratingSet(_ name: String) throws -> RatingSet {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT scale, categories FROM rating_sets WHERE name = ?", arguments: [name]) else {
                let known = try String.fetchAll(db, sql: "SELECT name FROM rating_sets ORDER BY name")
                throw RatingsError.unknownSet(name: name, known: known)
            }
            let decoder = JSONDecoder()
            let scale = try decoder.decode(RatingScale.self, from: Data((row["scale"] as String).utf8))
            let categories = try decoder.decode([String].self, from: Data((row["categories"] as String).utf8))
            return try fetchRatingSet(db, name: name, scale: scale, categories: categories)
        }
    }

    /// Every stored set with its size.
    public func ratingSets() throws -> [RatingSetSummary] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.name, s.scale, s.updated, COUNT(r.item) AS ratings, COUNT(DISTINCT r.item) AS items, COUNT(DISTINCT r.rater) AS raters
                FROM rating_sets s LEFT JOIN ratings r ON r.set_name = s.name GROUP BY s.name ORDER BY s.name
                """).map { row in
                let scale = (try? JSONDecoder().decode(RatingScale.self, from: Data((row["scale"] as String).utf8)))?.description ?? "?"
                return RatingSetSummary(name: row["name"], scale: scale, items: row["items"], raters: row["raters"],
                                        ratings: row["ratings"], updated: row["updated"])
            }
        }
    }
}
