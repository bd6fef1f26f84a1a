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
                try JSONOutput.print([
                    "path": file.url.path, "version": Int(file.version), "alignment": file.alignment, "parameters": parameters,
                    "tensor_bytes": bytes, "file_bytes": fileSize as Any, "architecture": architecture, "tokenizer": tokenizer,
                    "quantization_mix": types, "hyperparameters": hyper,
                    "metadata": Dictionary(uniqueKeysWithValues: file.metadata.map { ($0.key, $0.value.description) }),
                    "tensors": file.tensors.map { ["name": $0.name, "type": $0.type.description, "shape": $0.dimensions, "bytes": $0.byteCount] as [String: Any] },
                ])
                return
            }
            print("\(file.url.path): GGUF v\(file.version), architecture \(architecture), \(file.tensors.count) tensors, \(parameters) parameters, \(bytes) bytes of tensor data\(fileSize.map { ", \($0) bytes on disk" } ?? "")")
            if !hyper.isEmpty { print("hyper-parameters: \(hyper)") }
            if !tokenizer.isEmpty { print("tokenizer: \(tokenizer)") }
            print("types: " + types.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            print("\nmetadata:")
            for (key, value) in file.metadata { print("  \(key) = \(value)") }
            print("\ntensors:")
            for t in file.tensors {
                let shape = t.dimensions.map(String.init).joined(separator: " × ")
                print("  \(t.name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(t.type.description.padding(toLength: 6, withPad: " ", startingAt: 0)) \(shape.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.byteCount) bytes")
            }
        }
    }
}
