import AssayCheckpoint
import AssayCore
import AssayEvaluators
import AssayModels
import AssayStats
import AssaySuite
import AssayTokenizer
import Foundation

/// What the fuzzers feed: one input, read through the same entry points a user's file takes.
/// Rejecting bad input with an error is the expected outcome; a trap, a sanitizer report, a hang
/// or an unbounded message is a finding. The libFuzzer executable in `Fuzz/Package.swift` calls
/// ``run(_:)`` and `FuzzRegressionTests` replays the seeds and every committed regression through it.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A GGUF file: the reader (mapped and from memory, every tensor dequantized), the model
    /// configuration and its checks, the weights, a forward pass when it loads, and its tokenizer
    /// (byte-level BPE or SentencePiece).
    case gguf
    /// A `model.safetensors` header and data beside a valid `config.json`.
    case safetensors
    /// A `config.json` (decoder or encoder) beside a valid tiny checkpoint.
    case configJSON = "config-json"
    /// A `tokenizer.json` (WordPiece, byte-level or SentencePiece BPE) and the same bytes as a `vocab.txt`.
    case tokenizer
    /// A suite file.
    case suite
    /// A ratings file in each format (CSV, TSV, JSON Lines, Label Studio) and the agreement statistics over it.
    case ratings
    /// A streamed completion response (server-sent events) cut into arbitrary pieces, read as both APIs.
    case events

    /// The messages of the errors the parsers gave (empty when every parser accepted the input).
    @discardableResult
    public func run(_ data: Data) -> [String] {
        var messages: [String] = []
        let scratch = Scratch()
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch { messages.append(Self.message(of: error)) }
        }
        switch self {
        case .gguf:
            let url = scratch.write(data, to: "input.gguf")
            // Parsed from memory too, every tensor dequantized: a mapped file rounds up to a page,
            // so a read just past its end would not show; a heap copy of the exact size does.
            attempt {
                let file = try GGUFFile(data: data, url: url)
                for tensor in file.tensors { _ = try file.floats(tensor) }
            }
            attempt { Self.exercise(try LlamaModel(contentsOf: url)) }
            attempt { Self.exercise(try CausalTokenizer(loading: url)) }
        case .safetensors:
            let directory = scratch.directory("safetensors")
            scratch.link(Fixture.url("models/tiny-llama/config.json"), at: "safetensors/config.json")
            let url = scratch.write(data, to: "safetensors/model.safetensors")
            attempt {
                let file = try SafetensorsFile(contentsOf: url)
                for tensor in file.tensors { _ = try file.floats(tensor) }
            }
            attempt { Self.exercise(try LlamaModel(contentsOf: directory)) }
        case .configJSON:
            let directory = scratch.directory("config")
            scratch.link(Fixture.url("models/tiny-llama/model.safetensors"), at: "config/model.safetensors")
            _ = scratch.write(data, to: "config/config.json")
            attempt { Self.exercise(try LlamaModel(contentsOf: directory)) }
            attempt { Self.exercise(try BertEncoder(contentsOf: directory)) }
        case .tokenizer:
            let json = scratch.write(data, to: "tokenizer.json"), vocab = scratch.write(data, to: "vocab.txt")
            attempt {
                switch try ModelTokenizer.load(json) {
                case .wordPiece: Self.exercise(try ModelTokenizer.load(json))
                default: Self.exercise(try CausalTokenizer(loading: json))
                }
            }
            attempt { Self.exercise(try ModelTokenizer.load(vocab)) }
        case .suite:
            // Two levels down, beside links to the fixtures, so that the relative paths of the
            // repository's suites (../Fixtures, ../../Fixtures) resolve as they do in suites/.
            _ = scratch.directory("suites/examples")
            scratch.link(Fixture.url(""), at: "Fixtures")
            scratch.link(Fixture.url(""), at: "suites/Fixtures")
            let url = scratch.write(data, to: "suites/examples/suite.yaml")
            attempt { _ = try SuiteLoader().load(url) }
        case .ratings:
            for format in RatingsFormat.allCases {
                let url = scratch.write(data, to: "ratings.\(format.rawValue)")
                for scale in [RatingScale.numeric(bins: nil), .categories(["1", "2", "3", "4", "5"])] {
                    attempt {
                        let set = try RatingSet.load(url, name: "fuzz", format: format, columns: RatingsColumns(), scale: scale)
                        for level in KrippendorffAlpha.Level.allCases {
                            _ = try AgreementAnalysis(set, weighting: .quadratic, level: level,
                                                      bootstrap: .init(resamples: 20, seed: 1))
                        }
                    }
                }
            }
        case .events:
            // The piece size comes from the input, so the fuzzer explores where reads split events.
            let piece = 1 + data.count % 13
            var cutter = EventStream.EventCutter()
            var offset = data.startIndex
            var clock: UInt64 = 0
            while offset < data.endIndex {
                let end = min(offset + piece, data.endIndex)
                clock += 1
                cutter.append(data[offset..<end], arrival: clock)
                offset = end
            }
            for status in [200, 500] {
                attempt {
                    let result = try cutter.result(status: status, url: "http://127.0.0.1/v1/completions")
                    for api in CompletionAPI.allCases { attempt { _ = try StreamedCompletion(parsing: result, api: api, url: "fuzz") } }
                }
            }
        }
        return messages
    }

    /// An error as the command line prints it.
    static func message(of error: any Error) -> String {
        (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    }

    /// Where the seed inputs of this target are, relative to the repository root (files or
    /// directories whose files are seeds).
    public var seeds: [String] {
        switch self {
        case .gguf: ["Fixtures/gguf", "Fixtures/malformed/*.gguf", "Fixtures/models/*.gguf"]
        case .safetensors: ["Fixtures/malformed/*.safetensors", "Fixtures/safetensors/*/*.safetensors", "Fixtures/models/tiny-llama/model.safetensors"]
        case .configJSON: ["Fixtures/models/*/config.json"]
        case .tokenizer: ["Fixtures/tokenizers", "Fuzz/seeds/tokenizer"]
        case .suite: ["suites", "suites/examples"]
        case .ratings: ["Fixtures/ratings", "Fuzz/seeds/ratings"]
        case .events: ["Fuzz/seeds/events"]
        }
    }
}

extension FuzzTarget {
    static func exercise(_ model: LlamaModel) {
        let vocabulary = model.configuration.vocabulary
        _ = model.logits([0, vocabulary - 1, vocabulary / 2])
    }

    static func exercise(_ encoder: BertEncoder) {
        let configuration = encoder.configuration
        guard configuration.maxSequenceLength >= 2 else { return }
        _ = encoder.hiddenStates([[0, configuration.vocabulary - 1]], layer: configuration.layers)
    }

    static func exercise(_ tokenizer: CausalTokenizer) {
        for text in Self.texts {
            let ids = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
            _ = tokenizer.decode(ids)
        }
    }

    static func exercise(_ tokenizer: ModelTokenizer) {
        guard case let .wordPiece(wordPiece) = tokenizer else { return }
        for text in Self.texts { _ = wordPiece.decode(wordPiece.encode(text)) }
    }

    static let texts = ["Hello world, it's 2026!", "  ünïcödé\tAccénts — 你好，世界 こんにちは 안녕 🙂 <s></s><unk>[CLS]", ""]
}
