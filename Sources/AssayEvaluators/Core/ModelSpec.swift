import AssayCore
import Foundation

/// A model as a suite declares it: a local checkpoint file or an OpenAI-compatible endpoint.
public enum ModelSpec: Sendable, Equatable {
    /// A checkpoint on disk (GGUF file, or a safetensors directory/file).
    case file(URL)
    /// A model behind an OpenAI-compatible server.
    case endpoint(URL, model: String)

    /// Where the model is, for reports.
    public var location: String {
        switch self {
        case let .file(url): return url.path
        case let .endpoint(url, model): return "\(Redaction.url(url)) (\(model))"
        }
    }
}

/// Identity of a model for reports and the store: path, content hash and detected format.
public struct ModelInfo: Sendable, Equatable, Codable {
    /// Name in the suite (`candidate`, `reference`).
    public var name: String
    /// File path or endpoint.
    public var path: String
    /// SHA-256 of the file (nil for endpoints and directories).
    public var sha256: String?
    /// `gguf`, `safetensors`, `endpoint` or `unknown`.
    public var format: String
    /// Architecture, once the engine reads it (nil until then).
    public var architecture: String?
    /// Parameter count, once known.
    public var params: Int?
    /// Quantization, once known.
    public var quantization: String?

    /// Creates model info.
    public init(name: String, path: String, sha256: String?, format: String,
                architecture: String? = nil, params: Int? = nil, quantization: String? = nil) {
        self.name = name
        self.path = path
        self.sha256 = sha256
        self.format = format
        self.architecture = architecture
        self.params = params
        self.quantization = quantization
    }
}
