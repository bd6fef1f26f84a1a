import AssayCore
import Foundation

/// Identifies model files for reports: content hash and format from the file's magic bytes.
public enum ModelInspector {
    /// Info for a model as declared in a suite.
    public static func inspect(name: String, spec: ModelSpec) -> ModelInfo {
        switch spec {
        case let .endpoint(url, model):
            return ModelInfo(name: name, path: "\(url.absoluteString)#\(model)", sha256: nil, format: "endpoint")
        case let .file(url):
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                let hasSafetensors = (try? FileManager.default.contentsOfDirectory(atPath: url.path))?.contains { $0.hasSuffix(".safetensors") } ?? false
                return ModelInfo(name: name, path: url.path, sha256: hasSafetensors ? try? SHA256.hex(modelAt: url) : nil, format: hasSafetensors ? "safetensors" : "unknown")
            }
            return ModelInfo(name: name, path: url.path, sha256: try? SHA256.hex(fileAt: url), format: format(of: url))
        }
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
