import AssayCore
import Foundation

/// A model as a suite declares it: a local checkpoint file or an OpenAI-compatible endpoint.
public enum ModelSpec: Sendable, Equatable {
    /// A checkpoint on disk (GGUF file, or a safetensors directory/file).
    case file(URL)
    /// A model behind an OpenAI-compatible server; its API key is read from the environment
    /// variable `apiKeyVariable` names (the suite's `api_key_env`), else from `OPENAI_API_KEY`.
    case endpoint(URL, model: String, apiKeyVariable: String? = nil)

    /// Where the model is, for reports.
    public var location: String {
        switch self {
        case let .file(url): return url.path
        case let .endpoint(url, model, _): return "\(Redaction.url(url)) (\(model))"
        }
    }

    /// The key an endpoint's requests carry as `Authorization: Bearer …`: the value of
    /// `apiKeyVariable` when the suite names one, else of `OPENAI_API_KEY` (nil when unset or
    /// empty). The value is registered with ``Redaction`` so that no output shows it.
    /// - Throws: `EvaluatorError.invalidOption` when the named variable is unset or empty — a
    ///   request without the key the suite asks for would only fail later with a 401.
    public static func apiKey(variable: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
        guard let variable else {
            return environment["OPENAI_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let value = environment[variable], !value.isEmpty else {
            throw EvaluatorError.invalidOption(name: "api_key_env",
                                               message: "the model's API key variable \(variable) is not set; export \(variable)=… with the server's key, "
                                                   + "or remove api_key_env to send $OPENAI_API_KEY")
        }
        Redaction.register(value)
        return value
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
