import AssayCore
import Foundation

/// Errors of the procedures: their inputs (texts, documents, windows) and what two models must share.
public enum ProcedureError: AssayError, Equatable {
    /// The text is shorter than two chunks of `context` tokens (chunked perplexity, drift).
    case textTooShort(tokens: Int, context: Int)
    /// A document is empty (`line` 1-based), or the text has none.
    case emptyDocument(path: String, line: Int?)
    /// A JSON Lines document is malformed at `line` (1-based).
    case malformedDocument(path: String, line: Int, message: String)
    /// The text file is missing or not UTF-8.
    case unreadableText(path: String, reason: String)
    /// A rolling-window stride outside 1…context.
    case invalidStride(stride: Int, context: Int)
    /// Two models tokenize the text differently (`position` −1: their vocabularies differ).
    case differentTokenizations(reference: String, candidate: String, position: Int, referenceToken: String, candidateToken: String)
    /// A model cannot do what the procedure needs (a served model without token scoring, …).
    case missingCapability(model: String, what: String, hint: String)
    /// A token perplexity too large for a double: the model's log-probabilities put a mean
    /// negative log-likelihood of `meanNLL` nats on each token.
    case perplexityOverflow(model: String, meanNLL: Double)
    /// A model's log-probabilities are not numbers (NaN) at some scored position (`at`: the chunk
    /// or document, where the run stopped at the first one).
    case nonFiniteScores(model: String, at: String? = nil)
    /// An encoder's hidden state at `layer` is not finite (NaN or infinity) for `text`.
    case nonFiniteEncoderOutput(model: String, layer: Int, text: String)

    public var errorDescription: String? {
        switch self {
        case let .textTooShort(tokens, context): return "the text has \(tokens) tokens, fewer than two chunks of \(context)"
        case let .emptyDocument(path, line):
            return line.map { "\(path):\($0): the document is empty" } ?? "\(path): there is no text to score"
        case let .malformedDocument(path, line, message): return "\(path):\(line): \(message)"
        case let .unreadableText(path, reason): return "\(path): \(reason)"
        case let .invalidStride(stride, context): return "stride \(stride) must be between 1 and the context (\(context))"
        case let .differentTokenizations(reference, candidate, position, referenceToken, candidateToken):
            return position < 0
                ? "\(candidate): the vocabulary differs from \(reference)'s (\(candidateToken) vs \(referenceToken))"
                : "\(candidate): tokenizes the text differently from \(reference): token \(position) is \(candidateToken), not \(referenceToken)"
        case let .missingCapability(model, what, _): return "\(model): \(what)"
        case let .perplexityOverflow(model, meanNLL):
            return "\(model): the token perplexity overflows (exp of a mean negative log-likelihood of \(meanNLL) nats)"
        case let .nonFiniteScores(model, at): return "\(model): its log-probabilities are not numbers (NaN)" + (at.map { " in \($0)" } ?? "")
        case let .nonFiniteEncoderOutput(model, layer, text):
            let shown = text.count > 60 ? String(text.prefix(60)) + "…" : text
            return "\(model): layer \(layer) of the encoder is not finite (NaN or infinity) for the text '\(shown)'"
        }
    }

    public var recoverySuggestion: String? {
        switch self {
        case .textTooShort: return "use a longer text or a smaller context"
        case .emptyDocument: return "remove empty documents, or choose another split (file, paragraphs, lines, jsonl)"
        case .malformedDocument: return "each line must be a JSON object with the document text in the chosen field"
        case .unreadableText: return "check the path, and save the text as UTF-8"
        case .invalidStride: return "use a stride from 1 to the context, or leave it out for lm-eval's (the context)"
        case .differentTokenizations: return "compare two versions of the same model: drift needs identical tokenizers"
        case let .missingCapability(_, _, hint): return hint
        case .perplexityOverflow:
            return "no model's softmax gives log-probabilities that low: check the weights, or the server's log-probabilities"
        case .nonFiniteScores:
            return "a NaN or infinity is never a result: the weights hold NaN or infinity, or values large enough to overflow (assay inspect shows the file's metadata); convert the checkpoint again"
        case .nonFiniteEncoderOutput:
            return "the encoder's weights hold NaN or infinity, or values large enough to overflow: check the checkpoint"
        }
    }

    public var location: String? {
        switch self {
        case let .emptyDocument(path, line): return line.map { "\(path):\($0)" } ?? path
        case let .malformedDocument(path, line, _): return "\(path):\(line)"
        case let .unreadableText(path, _): return path
        case let .differentTokenizations(_, candidate, _, _, _): return candidate
        case let .missingCapability(model, _, _), let .perplexityOverflow(model, _), let .nonFiniteEncoderOutput(model, _, _),
             let .nonFiniteScores(model, _): return model
        default: return nil
        }
    }
}
