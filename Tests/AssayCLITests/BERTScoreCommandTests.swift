import AssayTestSupport
import Foundation
import Testing

/// `assay bertscore` and `assay bertscore-baseline` end to end on Fixtures/mt.
struct BERTScoreCommandTests {
    static let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")

    @Test func jsonHasPerItemScoresMeansAndSignature() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let a = Self.mt.appendingPathComponent("system-a.txt").path, ref = Self.mt.appendingPathComponent("reference.txt").path
        let result = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let f1 = try #require(object["f1"] as? [Double])
        #expect(f1.count == 20 && (object["precision"] as? [Double])?.count == 20 && (object["recall"] as? [Double])?.count == 20)
        let mean = try #require(object["mean"] as? [String: Double])
        #expect(abs(mean["f1"]! - f1.reduce(0, +) / 20) < 1e-12)
        #expect((object["signature"] as? String)?.hasPrefix("all-minilm-l6-v2_L6_no-idf_version=assay-") == true)

        // Two references: each of P, R, F is the best of the two, so never below one reference.
        let two = try AssayProcess.run(["bertscore", a, "--ref", ref, "--ref", Self.mt.appendingPathComponent("system-b.txt").path,
                                        "--encoder", encoder.path, "--format", "json", "--layer", "6"])
        let f1Two = try #require((try JSONSerialization.jsonObject(with: Data(two.stdout.utf8)) as? [String: Any])?["f1"] as? [Double])
        // (Within 1e-6: the second run embeds other batches, and OpenBLAS's kernels for another matrix
        // height may round differently.)
        #expect(zip(f1Two, f1).allSatisfy { $0 >= $1 - 1e-6 })

        let text = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--idf", "--quantize", "q8_0"])
        #expect(text.status == 0 && text.stdout.hasPrefix("all-minilm-l6-v2-q8_0_L6_idf_version=assay-") && text.stdout.contains(" F1: 0."))
    }

    @Test func badInputsFailWithWhereAndHow() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let directory = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a = Self.mt.appendingPathComponent("system-a.txt").path, ref = Self.mt.appendingPathComponent("reference.txt").path
        try "LAYER,P,R,F\n6,0.8,oops,0.8\n".write(to: directory.appendingPathComponent("b.csv"), atomically: true, encoding: .utf8)
        let bad = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--rescale", "b.csv"], in: directory)
        #expect(bad.status == 2 && bad.stderr.contains("b.csv:2: P, R and F must be numbers below 1") && bad.stderr.contains("hint: "), "\(bad.stderr)")
        let layer = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", encoder.path, "--layer", "9"])
        #expect(layer.status == 2 && layer.stderr.contains("layers 0…6"), "\(layer.stderr)")
        let missing = try AssayProcess.run(["bertscore", a, "--ref", ref, "--encoder", directory.appendingPathComponent("none").path])
        #expect(missing.status == 2 && missing.stderr.contains("no encoder here"), "\(missing.stderr)")
        let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let short = try AssayProcess.run(["bertscore", a, "--ref", notes, "--encoder", encoder.path])
        #expect(short.status == 2 && short.stderr.contains("field-notes.txt: has ") && short.stderr.contains("lines but the hypotheses have 20"), "\(short.stderr)")
    }

    @Test func baselineCommandWritesBertScoreFormat() throws {
        let encoder = try TestEnvironment.model("all-minilm-l6-v2")
        let notes = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let result = try AssayProcess.run(["bertscore-baseline", notes, "--encoder", encoder.path, "--pairs", "40", "--seed", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.first == "LAYER,P,R,F" && lines.count == 8 && lines[7].hasPrefix("6,0."))
    }
}
