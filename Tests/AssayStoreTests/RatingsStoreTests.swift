import AssayEvaluators
import AssayStore
import AssayTestSupport
import Foundation
import Testing

struct RatingsStoreTests {
    func set(_ rows: [(String, String, String)], name: String = "s") throws -> RatingSet {
        try RatingSet.build(name: name, scale: .categories(["1", "2", "3"]),
                            raw: rows.map { RawRating(location: "", item: $0.0, rater: $0.1, label: $0.2) }, path: "", readProblems: [])
    }

    @Test func importIsIdempotentAndNeedsAppendOrReplace() throws {
        let store = try ResultsStore(url: try TestEnvironment.temporaryDirectory().appendingPathComponent("s.sqlite"))
        let first = try set([("i1", "a", "1"), ("i1", "b", "2")])
        #expect(try store.importRatings(first, mode: .new) == .created(2))
        #expect(try store.importRatings(first, mode: .new) == .unchanged)
        let second = try set([("i2", "a", "3"), ("i2", "b", "3")])
        #expect(throws: RatingsError.setExists(name: "s")) { try store.importRatings(second, mode: .new) }
        #expect(try store.importRatings(second, mode: .append) == .appended(2))
        #expect(try store.importRatings(second, mode: .append) == .unchanged)
        #expect(try store.ratingSet("s").ratings.count == 4)

        let conflicting = try set([("i1", "a", "3")])
        #expect(throws: RatingsError.self) { try store.importRatings(conflicting, mode: .append) }
        #expect(try store.ratingSet("s").ratings.count == 4)

        #expect(try store.importRatings(conflicting, mode: .replace) == .replaced(1))
        #expect(try store.ratingSet("s").ratings == conflicting.ratings)
        #expect(try store.ratingSets().map(\.ratings) == [1])
        #expect(throws: RatingsError.self) { try store.ratingSet("nope") }
    }
}
