import AssayTensor
import Foundation

/// Writes GGUF version 3 files: metadata, tensor infos, then each tensor's bytes aligned to
/// `general.alignment` (32 unless the metadata says otherwise). The file appears atomically: it is
/// written next to the destination and renamed over it, so a failure leaves no partial file.
public struct GGUFWriter {
    /// A tensor to write: dimensions innermost first (ggml order) and its encoded bytes.
    public struct Tensor {
        public var name: String
        public var dimensions: [Int]
        public var type: GGMLType
        public var bytes: [UInt8]

        public init(name: String, dimensions: [Int], type: GGMLType, bytes: [UInt8]) {
            self.name = name
            self.dimensions = dimensions
            self.type = type
            self.bytes = bytes
        }
    }

    public var metadata: [(key: String, value: GGUFValue)]
    public var tensors: [Tensor] = []

    public init(metadata: [(key: String, value: GGUFValue)]) {
        self.metadata = metadata
    }

    /// Sets `key` (replacing an existing value in place, else appending).
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = metadata.firstIndex(where: { $0.key == key }) { metadata[i].value = value } else { metadata.append((key, value)) }
    }

    var alignment: Int { metadata.first { $0.key == "general.alignment" }?.value.integer.map(Int.init) ?? 32 }

    /// Writes the file.
    /// - Precondition: each tensor's byte count matches its type and dimensions.
    /// - Throws: ``CheckpointError/unwritable(path:reason:)`` when the file cannot be written.
    public func write(to url: URL) throws {
        for t in tensors {
            precondition(t.type.byteCount(elements: t.dimensions.reduce(1, *)) == t.bytes.count, "\(t.name): byte count does not match its shape")
        }
        var header = Data()
        header.append(contentsOf: Array("GGUF".utf8))
        Self.append(&header, UInt32(3))
        Self.append(&header, UInt64(tensors.count))
        Self.append(&header, UInt64(metadata.count))
        for (key, value) in metadata {
            Self.appendString(&header, key)
            Self.appendValue(&header, value, withType: true)
        }
        let align = alignment
        var offset = 0
        for t in tensors {
            Self.appendString(&header, t.name)
            Self.append(&header, UInt32(t.dimensions.count))
            for d in t.dimensions { Self.append(&header, UInt64(d)) }
            Self.append(&header, t.type.rawValue)
            Self.append(&header, UInt64(offset))
            offset = (offset + t.bytes.count + align - 1) / align * align
        }
        header.append(contentsOf: [UInt8](repeating: 0, count: (align - header.count % align) % align))

        let directory = url.deletingLastPathComponent()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw CheckpointError.unwritable(path: url.path, reason: error.localizedDescription)
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil), let handle = try? FileHandle(forWritingTo: temporary) else {
            throw CheckpointError.unwritable(path: url.path, reason: "cannot create a file in \(directory.path)")
        }
        do {
            defer { try? handle.close() }
            try handle.write(contentsOf: header)
            for t in tensors {
                try handle.write(contentsOf: t.bytes)
                let padding = (align - t.bytes.count % align) % align
                if padding > 0 { try handle.write(contentsOf: [UInt8](repeating: 0, count: padding)) }
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(path: url.path, reason: "writing failed: \(error.localizedDescription)")
        }
        if rename(temporary.path, url.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw CheckpointError.unwritable(path: url.path, reason: "cannot move the finished file into place (errno \(errno))")
        }
    }

    static func append<T: FixedWidthInteger>(_ data: inout Data, _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func appendString(_ data: inout Data, _ s: String) {
        let bytes = Array(s.utf8)
        append(&data, UInt64(bytes.count))
        data.append(contentsOf: bytes)
    }

    static func typeID(_ value: GGUFValue) -> GGUFValue.TypeID {
        switch value {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .float32: .float32
        case .bool: .bool
        case .string: .string
        case .array: .array
        case .uint64: .uint64
        case .int64: .int64
        case .float64: .float64
        }
    }

    static func appendValue(_ data: inout Data, _ value: GGUFValue, withType: Bool) {
        if withType { append(&data, typeID(value).rawValue) }
        switch value {
        case let .uint8(v): append(&data, v)
        case let .int8(v): append(&data, v)
        case let .uint16(v): append(&data, v)
        case let .int16(v): append(&data, v)
        case let .uint32(v): append(&data, v)
        case let .int32(v): append(&data, v)
        case let .float32(v): append(&data, v.bitPattern)
        case let .bool(v): data.append(v ? 1 : 0)
        case let .string(s): appendString(&data, s)
        case let .array(elements):
            // The element type of an empty array is not kept by the reader; int32 is as good as any.
            append(&data, (elements.first.map(typeID) ?? .int32).rawValue)
            append(&data, UInt64(elements.count))
            for e in elements { appendValue(&data, e, withType: false) }
        case let .uint64(v): append(&data, v)
        case let .int64(v): append(&data, v)
        case let .float64(v): append(&data, v.bitPattern)
        }
    }
}
