import ArgumentParser
import AssayTokenizer
import Foundation

extension AssayCommand {
    /// `assay tokenize`: token ids of a text.
    struct Tokenize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokenize text with a model's tokenizer (GGUF byte-level BPE, or WordPiece from tokenizer.json / vocab.txt).",
            discussion: """
                Examples:
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello, world!"
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello" --format json
                  assay tokenize model.gguf "<|im_start|>user" --parse-special
                """)

        @Argument(help: ArgumentHelp("A .gguf file, a model directory with tokenizer.json (or vocab.txt), or that file.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("Text to tokenize.", valueName: "text"))
        var text: String

        @Flag(name: .customLong("no-special"), help: "Leave out the special tokens the tokenizer adds ([CLS]/[SEP], BOS/EOS).")
        var noSpecial = false

        @Flag(name: .customLong("parse-special"), help: "BPE: recognise special tokens written in the text (<|im_start|>, …).")
        var parseSpecial = false

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func run() async throws {
            let tokenizer = try ModelTokenizer.load(URL(fileURLWithPath: model))
            let ids: [Int]
            let tokens: [String]
            switch tokenizer {
            case let .wordPiece(t):
                ids = t.encode(text, addSpecialTokens: !noSpecial)
                tokens = t.tokens(of: ids)
            case let .bytePairEncoding(t):
                ids = t.encode(text, addSpecial: !noSpecial, parseSpecial: parseSpecial)
                tokens = ids.map { t.decode([$0]) }
            }
            if format == .json {
                try JSONOutput.print(["ids": ids, "tokens": tokens])
            } else {
                print(zip(ids, tokens).map { "\($0)\t\($1)" }.joined(separator: "\n"))
            }
        }
    }
}
