import AssayCore
import Foundation

/// Errors loading or running a model.
public enum ModelError: AssayError, Equatable {
    case unsupportedArchitecture(path: String, name: String, supported: [String])
    case missingMetadata(path: String, key: String)
    /// A metadata value the engine would compute with is out of range (a head count of 0, a
    /// negative layer count, a NaN epsilon, a BOS id past the vocabulary, …).
    case invalidMetadata(path: String, key: String, value: String, reason: String)
    case missingTensor(path: String, name: String)
    case wrongShape(path: String, name: String, expected: [Int], found: [Int])
    case unusedTensors(path: String, names: [String])
    case contextTooLong(path: String, context: Int, trained: Int)
    /// A served model's server takes prompts of at most `limit` tokens here (its max_model_len, less
    /// the generated token scoring asks for).
    case contextBeyondServer(model: String, context: Int, limit: Int)
    case emptyPrompt
    /// The logits of a generated position hold NaN (the weights hold NaN or infinity, or overflow).
    case nonFiniteLogits(path: String, position: Int)
    case unsupportedRopeScaling(path: String, type: String)
    /// A setting of a supported architecture that the engine does not implement.
    case unsupportedSetting(path: String, key: String, value: String, supported: String)
    case unsupportedActivation(path: String, name: String, supported: String)
    case unsupportedPositionEmbedding(path: String, type: String)
    case unsupportedQuantization(type: String, supported: [String])
    /// An OpenAI-compatible server could not be reached (connection refused, timeout, DNS).
    case serverUnreachable(url: String, reason: String)
    /// The server answered with an HTTP error status.
    case serverStatus(url: String, status: Int, message: String)
    /// The server's answer is not what the OpenAI API defines.
    case serverProtocol(url: String, message: String)
    /// The server does not serve the requested model name.
    case serverModelUnknown(url: String, model: String, served: [String])
    /// The remote backend cannot do this (yet).
    case unsupportedRemote(url: String, what: String)
    /// The server lacks what scoring needs (prompt log-probabilities, their alignment, token ids).
    case serverCannotScore(url: String, missing: String, fix: String)

    public var errorDescription: String? {
        switch self {
        case let .unsupportedArchitecture(path, name, supported):
            return "\(path): architecture '\(name)' is not supported (supported: \(supported.joined(separator: ", ")))"
        case let .missingMetadata(path, key): return "\(path): \(Self.keyNoun(path)) '\(key)' is missing"
        case let .invalidMetadata(path, key, value, reason): return "\(path): \(Self.keyNoun(path)) '\(key)' is \(value): \(reason)"
        case let .missingTensor(path, name): return "\(path): tensor '\(name)' is missing"
        case let .wrongShape(path, name, expected, found): return "\(path): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .unusedTensors(path, names):
            return "\(path): \(names.count) tensor(s) are not used by the architecture: \(names.prefix(5).joined(separator: ", "))"
        case let .contextTooLong(path, context, trained):
            return "\(path): context \(context) is beyond the model's trained length (\(trained) tokens)"
        case let .contextBeyondServer(model, context, limit):
            return "\(model): context \(context) is beyond what the server takes (\(limit) tokens: its max_model_len, less one for the generated token)"
        case .emptyPrompt: return "the prompt has no tokens"
        case let .nonFiniteLogits(path, position):
            return "\(path): the logits of generated token \(position + 1) are not numbers (NaN), so no token can be chosen"
        case let .unsupportedRopeScaling(path, type): return "\(path): rope scaling '\(type)' is not supported (none, linear, llama3 and yarn are)"
        case let .unsupportedSetting(path, key, value, supported): return "\(path): '\(key)' = \(value) is not supported (\(supported))"
        case let .unsupportedActivation(path, name, supported): return "\(path): hidden_act '\(name)' is not supported (\(supported) is)"
        case let .unsupportedPositionEmbedding(path, type):
            return "\(path): position_embedding_type '\(type)' is not supported (absolute is)"
        case let .unsupportedQuantization(type, supported):
            return "quantization type '\(type)' is not supported here (\(supported.joined(separator: ", ")) are)"
        case let .serverUnreachable(url, reason): return "cannot reach \(url): \(reason)"
        case let .serverStatus(url, status, message): return "\(url) answered HTTP \(status)\(message.isEmpty ? "" : ": " + message)"
        case let .serverProtocol(url, message): return "\(url): \(message)"
        case let .serverModelUnknown(url, model, served):
            return "\(url) does not serve a model named '\(model)' (it serves: \(served.isEmpty ? "none" : served.joined(separator: ", ")))"
        case let .unsupportedRemote(url, what): return "\(url): \(what) is not available through the OpenAI-compatible backend"
        case let .serverCannotScore(url, missing, _): return "\(url) cannot score tokens: \(missing)"
        }
    }

    /// GGUF files have metadata; config.json has keys.
    static func keyNoun(_ path: String) -> String {
        path.hasSuffix(".json") ? "key" : "metadata"
    }

    public var recoverySuggestion: String? {
        switch self {
        case .unsupportedArchitecture: return "convert a supported model, or wait for the architecture to be added"
        case let .invalidMetadata(path, _, _, _) where path.hasSuffix(".json"):
            return "config.json is damaged or was written for another architecture; save or download the model again"
        case .invalidMetadata: return "the file's metadata is damaged or was written by a broken converter; convert the model again"
        case let .contextTooLong(_, _, trained): return "use a context of \(trained) or less (--context on the command line, context: in a suite)"
        case let .contextBeyondServer(_, _, limit): return "use a context of \(limit) or less, or start the server with a larger --max-model-len"
        case .nonFiniteLogits:
            return "the weights hold NaN or infinity, or values large enough to overflow: convert the checkpoint again from the original weights"
        // The remedy follows the reason: a refused or dropped connection is a server to start,
        // a handshake, a certificate file or an API key is something on this side to fix.
        case let .serverUnreachable(_, reason) where reason.hasPrefix("the TLS handshake failed"):
            return "check that the server speaks TLS on this port (https:// URL) and that its certificate is trusted here: the system's CAs, or SSL_CERT_FILE"
        case let .serverUnreachable(_, reason) where reason.hasPrefix("SSL_CERT_FILE"):
            return "point SSL_CERT_FILE at a readable PEM file of CA certificates, or unset it to trust the system's"
        case let .serverUnreachable(_, reason) where reason.hasPrefix("the API key"):
            return "set the API key variable without a line break (e.g. export OPENAI_API_KEY=\"$(tr -d '\\r\\n' < key.txt)\")"
        case let .serverUnreachable(_, reason) where reason.hasPrefix("not a URL"):
            return "give the endpoint as http://HOST:PORT/v1 or https://HOST/v1"
        case let .serverUnreachable(_, reason) where reason.contains("names a proxy this client cannot use"):
            return "correct or unset that variable: http://[user:password@]HOST:PORT or socks5://HOST:PORT"
        case let .serverUnreachable(_, reason) where reason.contains("proxy authentication required"):
            return "check the user and password in the proxy variable (http://user:password@HOST:PORT, with special characters %-encoded)"
        case let .serverUnreachable(_, reason) where reason.contains("(through the proxy "):
            return "check that the proxy runs and lets this client CONNECT to the endpoint, or add the endpoint's host to no_proxy; then that the server runs"
        case .serverUnreachable: return "start the server (e.g. llama.cpp's llama-server or vllm serve) and check the endpoint URL, which ends in /v1"
        case let .serverStatus(url, 404, _) where !(URL(string: url)?.pathComponents.contains("v1") ?? true):
            return "give the endpoint as the base URL of the server's OpenAI API, which usually ends in /v1 (http://HOST:PORT/v1)"
        case .serverStatus(_, 401, _), .serverStatus(_, 403, _):
            return "check the API key ($OPENAI_API_KEY, or the variable the model's api_key_env names)"
        case .serverStatus(_, 400, _), .serverStatus(_, 413, _), .serverStatus(_, 422, _):
            return "the server refused the request; its message says why (often one of its limits: a prompt or max_tokens over its max_model_len, more log-probabilities than its --max-logprobs, a token id outside its vocabulary)"
        case .serverStatus: return "check the model name, the API key ($OPENAI_API_KEY, or the variable the model's api_key_env names) and the server's log"
        case .serverProtocol: return "the endpoint must implement OpenAI's /v1/completions with streaming (server-sent events)"
        case .serverModelUnknown: return "use one of the served names as the model"
        case .unsupportedRemote: return "run the model in-process (a GGUF file or a Hugging Face directory)"
        case let .serverCannotScore(_, _, fix): return fix
        case .unsupportedSetting, .unsupportedRopeScaling: return "use a checkpoint without it, or wait for it to be added (docs/engine.md lists what runs)"
        default: return "the file does not look like a complete checkpoint of this architecture; convert it again"
        }
    }
}
