import AssayTestSupport
import Foundation
import Testing

/// Golden files committed beside these tests and the shared evaluation data set.
enum GoldenData {
    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: nil))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// See ``TestEnvironment/sharedData(_:)``.
    static func sharedData(_ subpath: String) throws -> URL { try TestEnvironment.sharedData(subpath) }
}

struct GoldenBLEU: Decodable {
    var score: Double
    var counts: [Double]
    var totals: [Double]
    var precisions: [Double]
    var bp: Double
    var sys_len: Int
    var ref_len: Int
}

func expectEqual(_ score: BLEUScoreView, _ golden: GoldenBLEU, _ context: String) {
    #expect(score.counts == golden.counts, "\(context): counts")
    #expect(score.totals == golden.totals, "\(context): totals")
    #expect(score.sysLen == golden.sys_len, "\(context): sys_len")
    #expect(score.refLen == golden.ref_len, "\(context): ref_len")
    #expect(abs(score.score - golden.score) <= 1e-9, "\(context): score \(score.score) vs \(golden.score)")
    #expect(abs(score.bp - golden.bp) <= 1e-12, "\(context): bp")
    for (a, b) in zip(score.precisions, golden.precisions) {
        #expect(abs(a - b) <= 1e-9, "\(context): precisions \(score.precisions) vs \(golden.precisions)")
    }
}

/// The fields of a BLEU score that the goldens pin.
struct BLEUScoreView {
    var score: Double
    var counts: [Double]
    var totals: [Double]
    var precisions: [Double]
    var bp: Double
    var sysLen: Int
    var refLen: Int
}
