import AssayCheckpoint
import AssayTestSupport
import Foundation
import Testing

/// A checkpoint whose metadata holds a value the engine would trap on: exit 2 with the key named,
/// never a crash (signal 4/6) — on the command line and inside a suite, where the other
/// evaluations' results must survive.
struct HostileCheckpointCommandTests {
    static func crafted(_ name: String, _ key: String, _ value: Any) throws -> URL {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/\(name)")
        let directory = try TestEnvironment.temporaryDirectory("assay-hostile")
        for item in try FileManager.default.contentsOfDirectory(atPath: source.path) where item != "config.json" {
            try FileManager.default.copyItem(at: source.appendingPathComponent(item), to: directory.appendingPathComponent(item))
        }
        var config = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        config[key] = value
        try JSONSerialization.data(withJSONObject: config).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test func zeroHeadsExitTwoNamingTheKey() throws {
        let model = try Self.crafted("tiny-llama", "num_attention_heads", 0)
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt")
        let result = try AssayProcess.run(["perplexity", model.path, text.path, "--context", "16"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("num_attention_heads") && result.stderr.contains("hint:"), "\(result.stderr)")

        let encoder = try Self.crafted("tiny-roberta", "num_hidden_layers", -1)
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        let bert = try AssayProcess.run(["bertscore", mt.appendingPathComponent("system-a.txt").path, "--ref",
                                         mt.appendingPathComponent("reference.txt").path, "--encoder", encoder.path])
        #expect(bert.status == 2 && bert.stderr.contains("num_hidden_layers"), "\(bert.stderr)")
    }

    @Test func aHostileModelInASuiteKeepsTheOtherResults() throws {
        let model = try Self.crafted("tiny-llama", "rms_norm_eps", -1.0)
        let directory = try TestEnvironment.temporaryDirectory()
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        let mt = TestEnvironment.root.appendingPathComponent("Fixtures/mt")
        let suite = """
            version: 1
            name: hostile
            models:
              bad: { path: \(model.path) }
            datasets:
              notes: { kind: text, path: \(text) }
              mt: { kind: parallel, hypotheses: \(mt.appendingPathComponent("system-a.txt").path), references: [\(mt.appendingPathComponent("reference.txt").path)] }
            evaluations:
              - { id: ppl, evaluator: perplexity, model: bad, dataset: notes, options: { context: 16 } }
              - { id: bleu, evaluator: bleu, dataset: mt }
            """
        try suite.write(to: directory.appendingPathComponent("suite.yaml"), atomically: true, encoding: .utf8)
        let result = try AssayProcess.run(["run", "suite.yaml", "--store", "s.sqlite", "--out", "reports"], in: directory)
        #expect(result.status == 2, "\(result.stderr)")
        let reports = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("reports/hostile").path)
        let json = try #require(reports.first { $0.hasSuffix(".json") })
        let text2 = try String(contentsOf: directory.appendingPathComponent("reports/hostile/\(json)"), encoding: .utf8)
        #expect(text2.contains("rms_norm_eps") && text2.contains("\"score\""), "\(text2.prefix(3000))")
    }

    /// A weight that is NaN or infinite (found by probing, 2026-12-06): quantize had trapped
    /// converting it to Q8_0 (signal 4), perplexity and drift had printed `nan` with exit 0, and
    /// generate had reported the token NaN logits fell on (EOS) as a normal end. Each now exits 2
    /// naming the tensor or the model.
    @Test func nonFiniteWeightsAreRefusedNotComputed() throws {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama3.gguf")
        let directory = try TestEnvironment.temporaryDirectory("assay-hostile")
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = TestEnvironment.root.appendingPathComponent("Fixtures/text/field-notes.txt").path
        for (name, bits, shown) in [("nan", UInt16(0x7E00), "NaN"), ("inf", UInt16(0x7C00), "infinity")] {
            var bytes = try Data(contentsOf: source)
            let file = try GGUFFile(contentsOf: source)
            let tensor = try #require(file.tensors.first { $0.name == "blk.0.attn_q.weight" && $0.type == .f16 })
            let offset = file.dataOffset + Int(tensor.offset) + 2 * 5  // element 5 of an F16 tensor
            withUnsafeBytes(of: bits.littleEndian) { bytes.replaceSubrange(offset..<(offset + 2), with: $0) }
            let model = directory.appendingPathComponent("\(name).gguf")
            try bytes.write(to: model)

            let out = directory.appendingPathComponent("\(name).q8_0.gguf")
            let quantize = try AssayProcess.run(["quantize", model.path, "--type", "q8_0", "--out", out.path])
            #expect(quantize.status == 2 && quantize.stderr.contains("tensor 'blk.0.attn_q.weight' element 5 is \(shown): a weight must be a finite number"), "\(quantize.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
            // Kept in its own type (F16 to F16), the tensor is copied, not converted: checked the same (it had been copied as it was).
            let kept = directory.appendingPathComponent("\(name).f16.gguf")
            let copy = try AssayProcess.run(["quantize", model.path, "--type", "f16", "--out", kept.path])
            #expect(copy.status == 2 && copy.stderr.contains("tensor 'blk.0.attn_q.weight' element 5 is \(shown): a weight must be a finite number"), "\(copy.stderr)")
            #expect(!FileManager.default.fileExists(atPath: kept.path))
            // The whole text, refused at its first chunk (it had run every chunk before saying so).
            let perplexity = try AssayProcess.run(["perplexity", model.path, text, "--context", "16"])
            #expect(perplexity.status == 2 && perplexity.stderr.contains("its log-probabilities are not numbers (NaN) in chunk 1 of "), "\(perplexity.stderr)")
            let rolling = try AssayProcess.run(["perplexity", model.path, text, "--mode", "rolling", "--context", "16"])
            #expect(rolling.status == 2 && rolling.stderr.contains("its log-probabilities are not numbers (NaN) in document 1 of "), "\(rolling.stderr)")
            let drift = try AssayProcess.run(["drift", "--reference", source.path, "--candidate", model.path, text, "--context", "16"])
            #expect(drift.status == 2 && drift.stderr.contains("\(name).gguf: its log-probabilities are not numbers (NaN) in chunk 1 of "), "\(drift.stderr)")
            let generate = try AssayProcess.run(["generate", model.path, "hello", "--max-tokens", "3"])
            #expect(generate.status == 2 && generate.stderr.contains("the logits of generated token 1 are not numbers"), "\(generate.stderr)")
        }
    }

    /// A finite weight too large for the target type (found reading the quantizer, 2026-12-07):
    /// F16 ends at 65,504 and a Q8_0 block's f16 scale at about 65,504 · 127, and the file had been
    /// written with infinity there (as llama-quantize writes it), so every run of it gave NaN.
    /// Now quantize names the tensor, the element and the type, and writes nothing; a value the
    /// type holds (10⁶ in Q8_0) still converts.
    @Test func weightsBeyondTheTargetTypeAreRefused() throws {
        let source = TestEnvironment.root.appendingPathComponent("Fixtures/models/tiny-llama3.gguf")
        let directory = try TestEnvironment.temporaryDirectory("assay-hostile")
        defer { try? FileManager.default.removeItem(at: directory) }
        let f32 = directory.appendingPathComponent("tiny.f32.gguf")
        let convert = try AssayProcess.run(["quantize", source.path, "--type", "f32", "--out", f32.path])
        #expect(convert.status == 0, "\(convert.stderr)")
        for (n, (value, type, refused)) in [(Float(1e6), "f16", true), (1e6, "q8_0", false), (1e9, "q8_0", true)].enumerated() {
            var bytes = try Data(contentsOf: f32)
            let file = try GGUFFile(contentsOf: f32)
            let tensor = try #require(file.tensors.first { $0.name == "blk.0.attn_q.weight" && $0.type == .f32 })
            let offset = file.dataOffset + Int(tensor.offset) + 4 * 37  // element 37, in the second 32-value block
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.replaceSubrange(offset..<(offset + 4), with: $0) }
            let model = directory.appendingPathComponent("large.gguf")
            try bytes.write(to: model)
            let out = directory.appendingPathComponent("large.\(n).\(type).gguf")
            let result = try AssayProcess.run(["quantize", model.path, "--type", type, "--out", out.path])
            if refused {
                #expect(result.status == 2 && result.stderr.contains("tensor 'blk.0.attn_q.weight' element 37 is \(value), beyond what \(type.uppercased()) holds"),
                        "\(type): \(result.stderr)")
                #expect(!FileManager.default.fileExists(atPath: out.path), "\(type)")
            } else {
                #expect(result.status == 0, "\(type): \(result.stderr)")
            }
        }
    }
}
