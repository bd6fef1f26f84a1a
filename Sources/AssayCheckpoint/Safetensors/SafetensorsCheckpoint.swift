import AssayCore
import Foundation

/// A Hugging Face model directory: `config.json` plus `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name → file).
public struct SafetensorsCheckpoint: Sendable {
    /// The directory.
    public let directory: URL
    /// Parsed `config.json`.
    public let config: HFConfig
    /// The files, in name order.
    public let files: [SafetensorsFile]

    /// Opens `directory` (or the directory of a `.safetensors` file).
    /// - Throws: ``CheckpointError`` for a missing or malformed file, a tensor in two shards, or an
    ///   index naming a tensor its shard lacks.
    public init(contentsOf url: URL) throws {
        var isDirectory: ObjCBool = false
        _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        let directory = isDirectory.boolValue ? url : url.deletingLastPathComponent()
        self.directory = directory
        config = try HFConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: index.path) {
            let data: Data
            do { data = try Data(contentsOf: index) } catch {
                throw CheckpointError.unreadable(path: index.path, reason: error.localizedDescription)
            }
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = object["weight_map"] as? [String: String] else {
                throw CheckpointError.invalidHeader(path: index.path, message: "expected {\"weight_map\": {tensor: file}}")
            }
            let names = Set(map.values).sorted()
            guard names.allSatisfy({ !$0.contains("/") && $0.hasSuffix(".safetensors") }) else {
                throw CheckpointError.invalidHeader(path: index.path, message: "weight_map must name .safetensors files in the same directory")
            }
            files = try names.map { try SafetensorsFile(contentsOf: directory.appendingPathComponent($0)) }
            for (tensor, file) in map {
                guard files.first(where: { $0.url.lastPathComponent == file })?.tensor(tensor) != nil else {
                    throw CheckpointError.invalidHeader(path: index.path, message: "weight_map puts '\(tensor)' in \(file), which does not hold it")
                }
            }
        } else {
            let single = isDirectory.boolValue ? directory.appendingPathComponent("model.safetensors") : url
            files = [try SafetensorsFile(contentsOf: single)]
        }
        var seen: [String: String] = [:]
        for file in files {
            for tensor in file.tensors {
                if let other = seen[tensor.name] {
                    throw CheckpointError.invalidHeader(path: file.url.path, message: "tensor '\(tensor.name)' is also in \(other)")
                }
                seen[tensor.name] = file.url.lastPathComponent
            }
        }
    }

    /// Every tensor with the file that holds it.
    public var tensors: [(file: SafetensorsFile, tensor: SafetensorsFile.TensorInfo)] {
        files.flatMap { file in file.tensors.map { (file, $0) } }
    }

    /// The tensor called `name` and its file.
    public func tensor(_ name: String) -> (file: SafetensorsFile, tensor: SafetensorsFile.TensorInfo)? {
        for file in files { if let t = file.tensor(name) { return (file, t) } }
        return nil
    }
}

/// A Hugging Face `config.json` with typed, located access.
public struct HFConfig: @unchecked Sendable {
    /// The file.
    public let url: URL
    private let object: [String: Any]

    /// Reads `url`.
    /// - Throws: ``CheckpointError`` when it is missing or not a JSON object.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadable(path: url.path, reason: error.localizedDescription)
        }
        let object: [String: Any]
        do { object = try JSONLine.object(String(decoding: data, as: UTF8.self)) } catch {
            // The parser's words say where (Python's json.dump writes NaN, which JSON has not).
            throw CheckpointError.invalidHeader(path: url.path, message: error.message)
        }
        self.url = url
        self.object = object
    }

    private init(url: URL, object: [String: Any]) {
        self.url = url
        self.object = object
    }

    /// The keys present.
    public var keys: [String] { object.keys.sorted() }

    /// A nested object (such as `rope_scaling`); nil when absent or null.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds something else.
    public func nested(_ key: String) throws -> HFConfig? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let nested = value as? [String: Any] else { throw wrongType(key, expected: "an object") }
        return HFConfig(url: url, object: nested)
    }

    /// A string value.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds something else.
    public func string(_ key: String) throws -> String? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let text = value as? String else { throw wrongType(key, expected: "a string") }
        return text
    }

    /// An integer value (JSON numbers without a fraction); nil when absent or null.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds anything else
    ///   (a string, a fraction, a number beyond 64 bits): a value present but wrong is never read as absent.
    public func integer(_ key: String) throws -> Int? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        // Int(exactly:) is nil for a fraction and for a value outside Int's range (1e30 would trap Int(_:)).
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c", let integer = Int(exactly: n.doubleValue) else {
            throw wrongType(key, expected: "a whole number")
        }
        return integer
    }

    /// A numeric value; nil when absent or null.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds something else.
    public func number(_ key: String) throws -> Double? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { throw wrongType(key, expected: "a number") }
        return n.doubleValue
    }

    /// A boolean value; nil when absent or null.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds something else.
    public func bool(_ key: String) throws -> Bool? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let n = value as? NSNumber, String(cString: n.objCType) == "c" else { throw wrongType(key, expected: "true or false") }
        return n.boolValue
    }

    /// The error for `key` holding a value of the wrong kind, quoting it (shortened).
    func wrongType(_ key: String, expected: String) -> CheckpointError {
        let value = object[key].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed, .sortedKeys]) }
            .map { String(decoding: $0, as: UTF8.self) } ?? "?"
        let shown = value.count > 60 ? value.prefix(57) + "…" : Substring(value)
        return CheckpointError.invalidHeader(path: url.path, message: "'\(key)' is \(shown); expected \(expected)")
    }

    /// How many entries a list has (nil when absent or not a list).
    public func listCount(_ key: String) -> Int? { (object[key] as? [Any])?.count }

    /// A list of strings (`architectures`, `layer_types`); nil when absent or null.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` when the key holds something else.
    public func strings(_ key: String) throws -> [String]? {
        guard let value = object[key], !(value is NSNull) else { return nil }
        guard let list = value as? [String] else { throw wrongType(key, expected: "a list of strings") }
        return list
    }

    /// A required integer.
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` naming the key.
    public func requireInteger(_ key: String) throws -> Int {
        guard let value = try integer(key) else {
            throw CheckpointError.invalidHeader(path: url.path, message: "'\(key)' is missing")
        }
        return value
    }
}
