import AssayCheckpoint
import AssayTensor
import AssayTestSupport
import Foundation
import Testing

/// The GGUF reader on Fixtures/gguf/tiny.gguf (also read by gguf-py's GGUFReader to cross-check
/// the fixture) and on one crafted file per kind of damage in Fixtures/malformed/
/// (scripts/fixtures/make_gguf_fixtures.py).
struct GGUFFileTests {
    static let fixtures = TestEnvironment.root.appendingPathComponent("Fixtures")

    @Test func readsMetadataTensorsAndValues() throws {
        let file = try GGUFFile(contentsOf: Self.fixtures.appendingPathComponent("gguf/tiny.gguf"))
        #expect(file.version == 3 && file.alignment == 32)
        #expect(file.value("general.architecture")?.string == "llama")
        #expect(file.value("llama.block_count")?.integer == 1)
        #expect(file.value("llama.rope.freq_base")?.number == 10000)
        #expect(file.value("tokenizer.ggml.add_bos_token") == .bool(true))
        #expect(file.value("tokenizer.ggml.tokens")?.array?.compactMap(\.string) == ["<s>", "</s>", "a", "b", "ab"])
        #expect(file.value("test.nested") == .array([.array([.uint8(1), .uint8(2)]), .array([.uint8(3)])]))
        #expect(file.value("test.i64") == .int64(-5) && file.value("test.f64") == .float64(0.25))
        #expect(file.tensors.map(\.name) == ["weight.f32", "weight.f16", "weight.q8_0", "weight.q4_k"])
        #expect(file.tensors.map(\.type) == [.f32, .f16, .q8_0, .q4_K])
        #expect(file.tensor("weight.f32")?.dimensions == [4, 3])
        // First values and the sum, as gguf-py's reader + dequantize give them.
        let expected: [(String, [UInt32], Double)] = [
            ("weight.f32", [0x3AA1_3D19, 0x3E98_F52D], -1.1766648449702188),
            ("weight.f16", [0x3DD7_E000, 0xBF6E_4000], -5.1508941650390625),
            ("weight.q8_0", [0x3F86_6DC0, 0x3F78_5F80], 0.5501174926757812),
            ("weight.q4_k", [0x415A_4960, 0x40B9_A3C0], 1257.848648071289),
        ]
        for (name, first, sum) in expected {
            let values = try file.floats(try #require(file.tensor(name)))
            #expect(values.prefix(2).map(\.bitPattern) == first, "\(name)")
            #expect(abs(values.reduce(0.0) { $0 + Double($1) } - sum) < 1e-9, "\(name)")
        }
    }

    static let malformed: [(String, String)] = [
        ("truncated", "byte 24: the metadata count is 10, more than the file can hold (at most 5)"),
        ("bad-magic", "not a GGUF file (starts with GGUX"),
        ("version-1", "GGUF version 1 is not supported"),
        ("tensor-beyond-eof", "tensor 't' data at bytes"),
        ("overlapping-tensors", "tensors 'a' and 'b' overlap"),
        ("misaligned-tensor", "data offset 4 is not a multiple of the alignment 32"),
        ("five-dimensions", "5 dimensions; GGUF tensors have 1 to 4"),
        ("zero-dimension", "a dimension is zero"),
        ("overflowing-shape", "the element count overflows"),
        ("unknown-tensor-type", "unknown ggml type 99"),
        ("partial-block", "40 elements is not a whole number of Q4_0 blocks of 32"),
        ("string-longer-than-file", "truncated at byte 32 while reading a metadata key: needs 1099511627776 bytes"),
        ("array-longer-than-file", "the length of 'x' is 576460752303423488, more than the file can hold"),
        ("absurd-tensor-count", "the tensor count is 1152921504606846976"),
        ("absurd-metadata-count", "the metadata count is 1152921504606846976"),
        ("unknown-value-type", "byte 33: metadata 'x' has unknown value type 77"),
        ("duplicate-tensor", "tensor 't' appears twice"),
    ]

    @Test(arguments: malformed)
    func hostileFilesFailWithLocatedErrors(_ name: String, _ message: String) throws {
        let url = Self.fixtures.appendingPathComponent("malformed/\(name).gguf")
        do {
            _ = try GGUFFile(contentsOf: url)
            Issue.record("\(name) was accepted")
        } catch let error as CheckpointError {
            let description = error.errorDescription ?? ""
            #expect(description.hasPrefix(url.path + ":"), "\(description)")
            #expect(description.contains(message), "\(name): \(description)")
            #expect(error.recoverySuggestion != nil)
        }
    }

    @Test func everyMalformedFixtureIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.fixtures.appendingPathComponent("malformed").path)
        #expect(Set(files.filter { $0.hasSuffix(".gguf") }.map { String($0.dropLast(5)) }) == Set(Self.malformed.map(\.0)))
    }

    @Test func everyPrefixOfAValidFileFailsCleanly() throws {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("gguf/tiny.gguf"))
        for length in 0..<data.count {
            #expect(throws: CheckpointError.self) { try GGUFFile(data: data.prefix(length), url: URL(fileURLWithPath: "prefix.gguf")) }
        }
    }
}

/// Fixtures/gguf/every-type.gguf: one tensor per supported type, read back through the GGUF reader
/// and dequantized to the bits gguf-py gives (Tests/AssayTensorTests/Golden/dequant.json).
struct EveryTypeFixtureTests {
    struct Case: Decodable { var type: String; var expected_bits: [UInt32] }
    struct File: Decodable { var cases: [Case] }

    @Test func everyTypeDequantizesBitExactly() throws {
        let golden = try JSONDecoder().decode(File.self, from: Data(contentsOf: TestEnvironment.root.appendingPathComponent("Tests/AssayTensorTests/Golden/dequant.json")))
        let file = try GGUFFile(contentsOf: TestEnvironment.root.appendingPathComponent("Fixtures/gguf/every-type.gguf"))
        #expect(file.tensors.count == golden.cases.count)
        for c in golden.cases {
            let tensor = try #require(file.tensor("t.\(c.type.lowercased())"))
            #expect(tensor.type.description == c.type)
            #expect(try file.floats(tensor).map(\.bitPattern) == c.expected_bits, "\(c.type)")
        }
    }
}
