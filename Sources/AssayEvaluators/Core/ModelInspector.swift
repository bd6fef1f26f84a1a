import AssayCheckpoint
import AssayCore
import Foundation

/// Identifies model files for reports: content hash, format from the file's magic bytes, and the
/// architecture, parameter count and quantization from the checkpoint's header (nil when the
/// header cannot be read — the evaluation that loads the model reports why).
public enum ModelInspector {
    /// Info for a model as declared in a suite.
    public static func inspect(name: String, spec: ModelSpec) -> ModelInfo {
        switch spec {
        case let .endpoint(url, model, _):
            return ModelInfo(name: name, path: "\(Redaction.url(url))#\(model)", sha256: nil, format: "endpoint")
        case let .file(url):
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                let hasSafetensors = (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.contains { $0.hasSuffix(".safetensors") } ?? false
                var info = ModelInfo(name: name, path: url.path, sha256: hasSafetensors ? try? SHA256.hex(modelAt: url) : nil,
                                     format: hasSafetensors ? "safetensors" : "unknown")
                if hasSafetensors { describe(&info, url) }
                return info
            }
            var info = ModelInfo(name: name, path: url.path, sha256: try? SHA256.hex(fileAt: url), format: format(of: url))
            if info.format == "gguf" { describe(&info, url) }
            return info
        }
    }

    /// Fills architecture, parameters and quantization from the header.
    static func describe(_ info: inout ModelInfo, _ url: URL) {
        guard let summary = try? CheckpointSummary(contentsOf: url) else { return }
        info.architecture = summary.architecture
        info.params = summary.parameters
        info.quantization = summary.quantization
    }

    /// `gguf` (magic "GGUF"), `safetensors` (by extension) or `unknown`.
    static func format(of url: URL) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return "unknown" }
        defer { try? handle.close() }
        let magic = (try? handle.read(upToCount: 4)) ?? Data()
        if magic == Data("GGUF".utf8) { return "gguf" }
        if url.pathExtension == "safetensors" { return "safetensors" }
        return "unknown"
    }
}
