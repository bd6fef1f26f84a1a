import ArgumentParser
import AssayCore
import AssayModels
import AssayTokenizer
import Foundation

extension AssayCommand {
    /// `assay tokenize`: token ids of a text.
    struct Tokenize: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Tokenize text with a model's tokenizer (GGUF byte-level BPE or SentencePiece; tokenizer.json BPE or WordPiece; vocab.txt).",
            discussion: """
                Examples:
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello, world!"
                  assay tokenize ~/.cache/assay/models/all-minilm-l6-v2 "Hello" --add-special --format json
                  assay tokenize model.gguf --file wiki.test.raw --format json        # {"ids": […], "count": N}
                  assay tokenize model.gguf "<|im_start|>user" --parse-special
                """)

        @Argument(help: ArgumentHelp("A .gguf file, a model directory with tokenizer.json (or vocab.txt), or that file.", valueName: "model"))
        var model: String

        @Argument(help: ArgumentHelp("Text to tokenize (or use --file).", valueName: "text"))
        var text: String?

        @Option(name: .long, help: ArgumentHelp("Tokenize this file instead, read as `llama-perplexity -f` reads it: all bytes, one trailing newline dropped.", valueName: "file"))
        var file: String?

        @Flag(name: .customLong("add-special"), help: "Add the special tokens the tokenizer adds to a sequence ([CLS]/[SEP], or BOS/EOS as the GGUF asks).")
        var addSpecial = false

        @Flag(name: .customLong("parse-special"), help: "BPE: recognise special tokens written in the text (<|im_start|>, …).")
        var parseSpecial = false

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func validate() throws {
            if (text == nil) == (file == nil) { throw ValidationError("give TEXT or --file FILE (one of them)") }
        }

        func run() async throws {
            let tokenizer = try ModelTokenizer.load(URL(fileURLWithPath: model))
            let text = try self.text ?? Self.readLikePerplexity(file!)
            let ids: [Int]
            let tokens: [String]
            switch tokenizer {
            case let .wordPiece(t):
                ids = t.encode(text, addSpecialTokens: addSpecial)
                tokens = t.tokens(of: ids)
            case let .bytePairEncoding(t):
                ids = t.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
                tokens = format == .json || file != nil ? [] : ids.map { t.decode([$0]) }
            case let .sentencePiece(t):
                ids = t.encode(text, addSpecial: addSpecial, parseSpecial: parseSpecial)
                tokens = ids.map { $0 < t.tokens.count ? t.tokens[$0] : "?" }
            }
            if format == .json {
                try JSONOutput.print(Output(ids: ids, count: ids.count), pretty: false)
            } else if file != nil {
                Terminal.output("\(ids.count) tokens")
            } else {
                Terminal.output(zip(ids, tokens).map { "\($0)\t\($1)" }.joined(separator: "\n"))
            }
        }

        /// `--format json`.
        struct Output: Encodable {
            var ids: [Int]
            var count: Int
        }

        /// The file's text: every byte (invalid UTF-8 is an error naming the offset), one trailing
        /// newline dropped.
        static func readLikePerplexity(_ path: String) throws -> String {
            var data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw CommandError(message: "\(path): cannot read: \(error.localizedDescription)", hint: "check the path")
            }
            if data.last == 0x0A { data.removeLast() }
            switch UTF8Text.decode(data) {
            case let .success(text): return text
            case let .failure(invalid): throw CommandError(message: "\(path): \(invalid)", hint: "re-encode the file as UTF-8")
            }
        }
    }
}
