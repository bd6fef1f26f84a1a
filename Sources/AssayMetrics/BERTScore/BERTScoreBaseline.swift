import AssayCore
import Foundation

/// A BERTScore rescaling baseline: the expected P, R and F of unrelated sentence pairs at each
/// layer, in bert_score's file format (CSV with the header `LAYER,P,R,F`, one row per layer).
/// Rescaled = (x − b)/(1 − b), which spreads scores that otherwise crowd near the baseline.
public struct BERTScoreBaseline: Sendable, Equatable {
    /// Layer → baseline (P, R, F).
    public var layers: [Int: BERTScore.Score]
    /// Where it was read from (for messages), if a file.
    public var path: String?

    public init(layers: [Int: BERTScore.Score], path: String? = nil) {
        self.layers = layers
        self.path = path
    }

    /// Reads a baseline file.
    /// - Throws: ``MetricsError`` naming the file and line of a bad header, row or number.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw MetricsError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        try self.init(csv: text, path: url.path)
    }

    /// Parses the CSV text of a baseline file.
    public init(csv text: String, path: String) throws {
        let fix = "a baseline file starts with the line LAYER,P,R,F and has one row per layer, such as 6,0.83,0.83,0.83"
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first, header.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) == ["LAYER", "P", "R", "F"] else {
            throw MetricsError.malformedLine(path: path, line: 1, message: "the header is not LAYER,P,R,F", fix: fix)
        }
        var layers: [Int: BERTScore.Score] = [:]
        for (index, line) in lines.enumerated().dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 4, let layer = Int(fields[0]), layer >= 0 else {
                throw MetricsError.malformedLine(path: path, line: index + 1, message: "expected LAYER,P,R,F with a layer number, found '\(line)'", fix: fix)
            }
            let values = fields.dropFirst().map(Double.init)
            guard values.allSatisfy({ $0.map { $0.isFinite && $0 < 1 } ?? false }) else {
                throw MetricsError.malformedLine(path: path, line: index + 1, message: "P, R and F must be numbers below 1, found '\(line)'", fix: fix)
            }
            guard layers[layer] == nil else {
                throw MetricsError.malformedLine(path: path, line: index + 1, message: "layer \(layer) appears twice", fix: fix)
            }
            layers[layer] = BERTScore.Score(precision: values[0]!, recall: values[1]!, f1: values[2]!)
        }
        self.init(layers: layers, path: path)
    }

    /// The baseline of `layer`.
    /// - Throws: ``MetricsError/invalidOption(name:value:reason:)`` when the file has no row for it.
    public func baseline(layer: Int) throws -> BERTScore.Score {
        guard let score = layers[layer] else {
            throw MetricsError.invalidOption(name: "layer", value: String(layer),
                                             reason: "the baseline \(path ?? "") has no row for it (it has layers \(layers.keys.sorted().map(String.init).joined(separator: ", ")))")
        }
        return score
    }

    /// The file text: header and one row per layer, values with 8 decimals.
    public var csv: String {
        (["LAYER,P,R,F"] + layers.keys.sorted().map { layer in
            let s = layers[layer]!
            return "\(layer),\(String(format: "%.8f", s.precision)),\(String(format: "%.8f", s.recall)),\(String(format: "%.8f", s.f1))"
        }).joined(separator: "\n") + "\n"
    }
}

extension BERTScore {
    /// bert_score's layer choices (tuned on WMT16 correlation with human judgements), for encoders
    /// this engine runs, by model name; other encoders default to their last layer.
    public static let tunedLayers: [String: Int] = [
        "bert-base-uncased": 9, "bert-large-uncased": 18, "bert-base-multilingual-cased": 9, "bert-base-chinese": 8,
        "bert-base-cased-finetuned-mrpc": 9, "roberta-base": 10, "roberta-large": 17, "roberta-large-mnli": 19,
        "xlm-roberta-base": 9, "xlm-roberta-large": 17, "distilroberta-base": 5,
    ]

    /// A bert_score-style hash naming every setting: `MODEL_L6_no-idf_version=assay-X`, with
    /// `_rescaled` (`_custom-rescaled` for a baseline file the user supplied, as bert_score marks
    /// it) and `_exclude-special` when those options are on.
    public static func signature(model: String, layer: Int, idf: Bool, rescaled: Bool, customBaseline: Bool = false,
                                 excludeSpecial: Bool) -> String {
        var s = "\(model)_L\(layer)_\(idf ? "idf" : "no-idf")_version=assay-\(AssayVersion.current)"
        if rescaled { s += customBaseline ? "_custom-rescaled" : "_rescaled" }
        if excludeSpecial { s += "_exclude-special" }
        return s
    }
}
