import AssayTestSupport
import Foundation
import Testing

/// `assay bleu` / `assay chrf` output formats, against values computed by sacrebleu 2.6.0 on the
/// project's own fixture set (`sacrebleu Fixtures/mt/reference.txt -i Fixtures/mt/system-b.txt -m bleu chrf --chrf-word-order 2 -w 9`).
struct MetricCommandTests {
    static let fixtures = TestEnvironment.root.appendingPathComponent("Fixtures/mt").path

    @Test func bleuJSONHasSacrebleuFields() throws {
        let result = try AssayProcess.run(["bleu", "\(Self.fixtures)/system-b.txt", "--ref", "\(Self.fixtures)/reference.txt", "--format", "json"])
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["name", "score", "counts", "totals", "precisions", "bp", "sys_len", "ref_len", "signature"])
        #expect(abs((object["score"] as? Double ?? 0) - 5.001965629952812) < 1e-12)
        #expect(object["counts"] as? [Int] == [86, 25, 4, 0])
        #expect(object["totals"] as? [Int] == [169, 149, 129, 109])
        #expect(object["sys_len"] as? Int == 169 && object["ref_len"] as? Int == 197)
        #expect(object["signature"] as? String == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:assay-0.1.0")
    }

    @Test func chrfPlusPlusJSON() throws {
        let result = try AssayProcess.run(["chrf", "\(Self.fixtures)/system-b.txt", "--ref", "\(Self.fixtures)/reference.txt",
                                           "--word-order", "2", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["name"] as? String == "chrF2++")
        #expect(abs((object["score"] as? Double ?? 0) - 42.196525) < 5e-7)
        #expect(object["signature"] as? String == "nrefs:1|case:mixed|eff:yes|nc:6|nw:2|space:no|version:assay-0.1.0")
    }

    @Test func sentenceLevelJSONHasOneEntryPerLine() throws {
        let result = try AssayProcess.run(["bleu", "\(Self.fixtures)/system-a.txt", "--ref", "\(Self.fixtures)/reference.txt",
                                           "--sentence", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sentences = try #require(object["sentences"] as? [[String: Any]])
        #expect(sentences.count == 20)
        #expect(abs((sentences[0]["score"] as? Double ?? 0) - 100) < 1e-9)
        #expect((sentences[0]["signature"] as? String)?.contains("eff:yes") == true)
    }

    @Test func multipleReferencesAndEmptyReferenceLines() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try "the cat sat\nhello there\n".write(to: directory.appendingPathComponent("h.txt"), atomically: true, encoding: .utf8)
        try "the cat sat down\n\n".write(to: directory.appendingPathComponent("r1.txt"), atomically: true, encoding: .utf8)
        try "a cat sat\nhello there\n".write(to: directory.appendingPathComponent("r2.txt"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["bleu", "h.txt", "--ref", "r1.txt", "--ref", "r2.txt", "--format", "json"], in: directory)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["signature"] as? String)?.hasPrefix("nrefs:2|") == true)
        // sacrebleu 2.6.0 on the same files: counts [5, 3, 1, 0], totals [5, 3, 1, 0], ref_len 5.
        #expect(object["counts"] as? [Int] == [5, 3, 1, 0])
        #expect(object["ref_len"] as? Int == 5)
    }

    @Test func jsonlWithVariableReferenceCounts() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try """
            {"hyp": "the cat sat", "refs": ["the cat sat down", "a cat sat"]}
            {"hyp": "hello there", "refs": ["hello there"]}
            """.write(to: directory.appendingPathComponent("d.jsonl"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["bleu", "d.jsonl", "--hyp-field", "hyp", "--ref-field", "refs", "--format", "json"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((object["signature"] as? String)?.hasPrefix("nrefs:var|") == true)
    }

    @Test func inputErrorsNameTheProblem() throws {
        let directory = try TestEnvironment.temporaryDirectory()
        try "a\nb\n".write(to: directory.appendingPathComponent("h.txt"), atomically: true, encoding: .utf8)
        try "a\n".write(to: directory.appendingPathComponent("r.txt"), atomically: true, encoding: .utf8)
        try Data([0x61, 0x0A, 0xC3, 0x28, 0x0A]).write(to: directory.appendingPathComponent("bad.txt"))
        let mismatch = try AssayProcess.run(["bleu", "h.txt", "--ref", "r.txt"], in: directory)
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("r.txt: has 1 lines but the hypotheses have 2"))
        let utf8 = try AssayProcess.run(["chrf", "bad.txt", "--ref", "h.txt"], in: directory)
        #expect(utf8.status == 2)
        #expect(utf8.stderr.contains("bad.txt:2: line is not valid UTF-8"))
        let tokenizer = try AssayProcess.run(["bleu", "h.txt", "--ref", "h.txt", "--tokenize", "13b"], in: directory)
        #expect(tokenizer.status == 64)
        #expect(tokenizer.stderr.contains("did you mean '13a'?"))
    }

    @Test func confidenceAndPairedBootstrap() throws {
        let confidence = try AssayProcess.run(["bleu", "\(Self.fixtures)/system-a.txt", "--ref", "\(Self.fixtures)/reference.txt",
                                               "--confidence", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(confidence.stdout.utf8)) as? [String: Any])
        let low = try #require(object["ci_low"] as? Double), high = try #require(object["ci_high"] as? Double)
        let score = try #require(object["score"] as? Double)
        #expect(low < score && score < high)
        #expect((object["signature"] as? String)?.contains("|bs:1000|rs:12345|") == true)

        let paired = try AssayProcess.run(["bleu", "\(Self.fixtures)/system-b.txt", "--ref", "\(Self.fixtures)/reference.txt",
                                           "--paired-bs", "\(Self.fixtures)/system-a.txt", "--format", "json"])
        let test = try #require(try JSONSerialization.jsonObject(with: Data(paired.stdout.utf8)) as? [String: Any])
        let system = try #require(test["system"] as? [String: Any])
        #expect((system["p_value"] as? Double ?? 1) < 0.01)
    }
}
