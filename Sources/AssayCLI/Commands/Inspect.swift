import ArgumentParser
import AssayCheckpoint
import AssayTensor
import Foundation

extension AssayCommand {
    /// `assay inspect`: look inside a GGUF checkpoint.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a GGUF checkpoint's metadata and tensors (validated: bounds, alignment, shapes).",
            discussion: """
                Examples:
                  assay inspect model.gguf
                  assay inspect model.gguf --format json
                """)

        @Argument(help: ArgumentHelp("A .gguf file.", valueName: "model"))
        var model: String

        @Option(name: .long, help: "text or json.")
        var format: OutputFormat = .text

        func run() async throws {
            let file = try GGUFFile(contentsOf: URL(fileURLWithPath: model))
            let parameters = file.tensors.reduce(0) { $0 + $1.elementCount }
            let bytes = file.tensors.reduce(0) { $0 + $1.byteCount }
            let fileSize = (try? FileManager.default.attributesOfItem(atPath: file.url.path)[.size] as? Int) ?? nil
            let architecture = file.value("general.architecture")?.string ?? "unknown"
            let tokenizer = [file.value("tokenizer.ggml.model")?.string.map { "model \($0)" },
                             file.value("tokenizer.ggml.pre")?.string.map { "pre \($0)" },
                             file.value("tokenizer.ggml.tokens")?.array.map { "\($0.count) tokens" },
                             file.value("tokenizer.ggml.merges")?.array.map { "\($0.count) merges" }].compactMap { $0 }.joined(separator: ", ")
            let hyperKeys = ["block_count", "context_length", "embedding_length", "feed_forward_length", "attention.head_count",
                             "attention.head_count_kv", "rope.freq_base", "vocab_size"]
            let hyper = hyperKeys.compactMap { key in file.value("\(architecture).\(key)").map { "\(key) \($0)" } }.joined(separator: ", ")
            var types: [String: Int] = [:]
            for t in file.tensors { types[t.type.description, default: 0] += t.elementCount }
            if format == .json {
                try JSONOutput.print(Output(
                    path: file.url.path, version: Int(file.version), alignment: file.alignment, parameters: parameters, tensorBytes: bytes,
                    fileBytes: fileSize, architecture: architecture, tokenizer: tokenizer, quantizationMix: types, hyperparameters: hyper,
                    metadata: Dictionary(uniqueKeysWithValues: file.metadata.map { ($0.key, $0.value.description) }),
                    tensors: file.tensors.map { .init(name: $0.name, type: $0.type.description, shape: $0.dimensions, bytes: $0.byteCount) }),
                    pretty: false)
                return
            }
            Terminal.output("\(file.url.path): GGUF v\(file.version), architecture \(architecture), \(file.tensors.count) tensors, \(parameters) parameters, \(bytes) bytes of tensor data\(fileSize.map { ", \($0) bytes on disk" } ?? "")")
            if !hyper.isEmpty { Terminal.output("hyper-parameters: \(hyper)") }
            if !tokenizer.isEmpty { Terminal.output("tokenizer: \(tokenizer)") }
            Terminal.output("types: " + types.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            Terminal.output("\nmetadata:")
            Terminal.output(lines: file.metadata.map { "  \($0.key) = \($0.value)" })
            Terminal.output("\ntensors:")
            Terminal.output(lines: file.tensors.map { t in
                let shape = t.dimensions.map(String.init).joined(separator: " × ")
                return "  \(t.name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(t.type.description.padding(toLength: 6, withPad: " ", startingAt: 0)) \(shape.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.byteCount) bytes"
            })
        }

        /// `--format json`.
        struct Output: Encodable {
            struct Tensor: Encodable {
                var name, type: String
                var shape: [Int]
                var bytes: Int
            }

            var path: String
            var version, alignment, parameters, tensorBytes: Int
            var fileBytes: Int?
            var architecture, tokenizer: String
            var quantizationMix: [String: Int]
            var hyperparameters: String
            var metadata: [String: String]
            var tensors: [Tensor]

            enum CodingKeys: String, CodingKey {
                case path, version, alignment, parameters, tensorBytes = "tensor_bytes", fileBytes = "file_bytes", architecture, tokenizer,
                     quantizationMix = "quantization_mix", hyperparameters, metadata, tensors
            }

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(path, forKey: .path)
                try c.encode(version, forKey: .version)
                try c.encode(alignment, forKey: .alignment)
                try c.encode(parameters, forKey: .parameters)
                try c.encode(tensorBytes, forKey: .tensorBytes)
                try c.encode(fileBytes, forKey: .fileBytes)  // null when the size cannot be read
                try c.encode(architecture, forKey: .architecture)
                try c.encode(tokenizer, forKey: .tokenizer)
                try c.encode(quantizationMix, forKey: .quantizationMix)
                try c.encode(hyperparameters, forKey: .hyperparameters)
                try c.encode(metadata, forKey: .metadata)
                try c.encode(tensors, forKey: .tensors)
            }
        }
    }
}
