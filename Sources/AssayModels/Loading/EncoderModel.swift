import AssayCheckpoint
import AssayTensor
import Foundation

/// A BERT-family encoder loaded for embedding (BERTScore): the encoder, its tokenizer, a name, and
/// the longest input its `tokenizer_config.json` allows (`model_max_length`).
public struct EncoderModel: Sendable {
    public var encoder: BertEncoder
    public var tokenizer: ModelTokenizer
    /// The directory's name (bert_score's model name, for tuned layers and signatures).
    public var name: String
    /// `model_max_length`, when the tokenizer config gives a sensible one (2 … 10⁹).
    public var modelMaxLength: Int?

    /// An encoder already in memory (for example quantized) with its tokenizer.
    public init(encoder: BertEncoder, tokenizer: ModelTokenizer, name: String, modelMaxLength: Int?) {
        self.encoder = encoder
        self.tokenizer = tokenizer
        self.name = name
        self.modelMaxLength = modelMaxLength
    }

    /// Loads the encoder and tokenizer of a Hugging Face directory.
    /// - Throws: ``ModelError`` (unsupported or hostile configuration, missing tensors), checkpoint
    ///   and tokenizer errors.
    public init(directory: URL) throws {
        let encoder = try BertEncoder(contentsOf: directory)
        self.init(encoder: encoder, tokenizer: try ModelTokenizer.load(encoder.url), name: encoder.url.lastPathComponent,
                  modelMaxLength: Self.modelMaxLength(encoder.url))
    }

    /// The same encoder with its projections quantized in memory to `type`.
    /// - Throws: ``ModelError/unsupportedQuantization(type:supported:)``.
    public func quantized(_ type: GGMLType) throws -> EncoderModel {
        EncoderModel(encoder: try encoder.quantized(type), tokenizer: tokenizer, name: name, modelMaxLength: modelMaxLength)
    }

    /// `model_max_length` from `tokenizer_config.json` beside the weights.
    static func modelMaxLength(_ directory: URL) -> Int? {
        let url = directory.appendingPathComponent("tokenizer_config.json")
        guard FileManager.default.fileExists(atPath: url.path), let config = try? HFConfig(contentsOf: url),
              let value = (try? config.number("model_max_length")) ?? nil, value >= 2, value < 1e9 else { return nil }
        return Int(value)
    }
}
