import ArgumentParser
import AssayTokenizer
import Foundation

extension AssayCommand {
    /// `assay tokenize`: token ids of a text.
    struct Tokenize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokenize text with a model's tokenizer (WordPiece from tokenizer.json or vocab.txt for now).",
            discussion: """
                Examples:
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello, world!"
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello" --format json
                """)

        @Argument(help: ArgumentHelp("A model directory with tokenizer.json (or vocab.txt), or the file itself.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("Text to tokenize.", valueName: "text"))
        var text: String

        @Flag(name: .customLong("no-special"), help: "Leave out [CLS] and [SEP].")
        var noSpecial = false

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func run() async throws {
            let url = URL(fileURLWithPath: model)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw CommandError(message: "\(model): not found", hint: "pass a model directory, e.g. ~/.cache/assay/models/all-minilm-l6-v2")
            }
            let tokenizer: WordPieceTokenizer
            if isDirectory.boolValue {
                let json = url.appendingPathComponent("tokenizer.json"), vocab = url.appendingPathComponent("vocab.txt")
                if FileManager.default.fileExists(atPath: json.path) { tokenizer = try WordPieceTokenizer(tokenizerJSON: json) }
                else if FileManager.default.fileExists(atPath: vocab.path) { tokenizer = try WordPieceTokenizer(vocabTXT: vocab) }
                else { throw CommandError(message: "\(model): no tokenizer.json or vocab.txt", hint: "BPE tokenizers from GGUF files come with the engine issue") }
            } else if url.lastPathComponent == "vocab.txt" {
                tokenizer = try WordPieceTokenizer(vocabTXT: url)
            } else if url.pathExtension == "json" {
                tokenizer = try WordPieceTokenizer(tokenizerJSON: url)
            } else {
                throw CommandError(message: "\(model): only WordPiece tokenizers (tokenizer.json, vocab.txt) are supported so far",
                                   hint: "GGUF (BPE/SentencePiece) tokenizers are still to come")
            }
            let ids = tokenizer.encode(text, addSpecialTokens: !noSpecial)
            let tokens = tokenizer.tokens(of: ids)
            if format == .json {
                try JSONOutput.print(["ids": ids, "tokens": tokens])
            } else {
                print(zip(ids, tokens).map { "\($0)\t\($1)" }.joined(separator: "\n"))
            }
        }
    }
}
