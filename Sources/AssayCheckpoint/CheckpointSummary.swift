import Foundation

/// What a checkpoint is, read from its header alone (no weights touched): for reports, `assay bench`
/// rows and the report's `models[]` entries.
public struct CheckpointSummary: Sendable, Equatable {
    /// GGUF `general.architecture`, or `model_type` of a Hugging Face `config.json`.
    public var architecture: String
    /// Parameters: elements of every tensor.
    public var parameters: Int
    /// Bytes of tensor data.
    public var tensorBytes: Int
    /// The type most weight matrices have (`Q4_1`, `F16`, `F32`, …): what people call the
    /// file's quantization.
    public var quantization: String

    /// Reads the header of a GGUF file or of a Hugging Face safetensors directory.
    /// - Throws: ``CheckpointError`` for a file that is neither, or a malformed header.
    public init(contentsOf url: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue, url.pathExtension != "safetensors",
           url.lastPathComponent != "config.json" {
            try self.init(gguf: try GGUFFile(contentsOf: url))
        } else {
            try self.init(safetensors: try SafetensorsCheckpoint(contentsOf: url))
        }
    }

    /// The summary of an open GGUF file.
    public init(gguf file: GGUFFile) throws {
        architecture = file.value("general.architecture")?.string ?? "unknown"
        let (parameters, parametersOverflow) = file.tensors.reduce((0, false)) { sum, tensor in
            let (total, overflow) = sum.0.addingReportingOverflow(tensor.elementCount)
            return (total, sum.1 || overflow)
        }
        let (bytes, bytesOverflow) = file.tensors.reduce((0, false)) { sum, tensor in
            let (total, overflow) = sum.0.addingReportingOverflow(tensor.byteCount)
            return (total, sum.1 || overflow)
        }
        guard !parametersOverflow, !bytesOverflow else {
            throw CheckpointError.invalidHeader(path: file.url.path, message: "the tensors' sizes add up to more than a 64-bit count")
        }
        self.parameters = parameters
        tensorBytes = bytes
        quantization = Self.dominant(file.tensors.filter { $0.dimensions.count >= 2 }.map(\.type.description))
    }

    /// The summary of an open safetensors checkpoint.
    public init(safetensors checkpoint: SafetensorsCheckpoint) throws {
        architecture = try checkpoint.config.string("model_type") ?? "unknown"
        parameters = checkpoint.tensors.reduce(0) { $0 &+ $1.tensor.elementCount }
        tensorBytes = checkpoint.tensors.reduce(0) { $0 &+ $1.tensor.range.count }
        quantization = Self.dominant(checkpoint.tensors.filter { $0.tensor.shape.count >= 2 }.map(\.tensor.dtype.rawValue))
    }

    /// The most common name (ties to the alphabetically first), or `unknown`.
    static func dominant(_ names: [String]) -> String {
        let counts = Dictionary(grouping: names, by: { $0 }).mapValues(\.count)
        return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? "unknown"
    }
}
