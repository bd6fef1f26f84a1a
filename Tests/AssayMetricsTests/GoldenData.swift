import Foundation
import Testing

/// Golden files committed beside these tests and the shared evaluation data set.
enum GoldenData {
    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: nil))
        return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
    }

    /// `$ASSAY_DATA` (default `../shared/data`) when it holds `subpath`; otherwise nil, and in
    /// CI (`CI=true`) a recorded failure: CI must not skip the real-data tests.
    static func sharedData(_ subpath: String) -> URL? {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["ASSAY_DATA"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("../shared/data")
        let url = root.appendingPathComponent(subpath)
        if FileManager.default.fileExists(atPath: url.path) { return url }
        if environment["CI"] == "true" {
            Issue.record("evaluation data missing at \(url.path) (set ASSAY_DATA); CI must not skip it")
        } else {
            print("skipping: evaluation data not found at \(url.path) (set ASSAY_DATA)")
        }
        return nil
    }
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
