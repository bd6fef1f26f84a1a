import AssayTensor
import Foundation

/// A GGUF v2/v3 file, memory-mapped and validated: header, metadata, tensor infos, and tensor
/// data ranges (in bounds, aligned, non-overlapping) — all checked before any tensor is touched.
///
/// Follows the GGUF specification in ggml's `docs/gguf.md`.
public struct GGUFFile: Sendable {
    /// One tensor's description.
    public struct TensorInfo: Sendable, Equatable {
        /// Tensor name (`blk.0.attn_q.weight`).
        public var name: String
        /// Dimensions, innermost first (ggml order).
        public var dimensions: [Int]
        /// ggml type.
        public var type: GGMLType
        /// Offset of the data from the start of the data section.
        public var offset: Int
        /// Number of elements.
        public var elementCount: Int
        /// Bytes of data.
        public var byteCount: Int
    }

    /// The file.
    public let url: URL
    /// GGUF version (2 or 3).
    public let version: UInt32
    /// Metadata in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// Tensors in file order.
    public let tensors: [TensorInfo]
    /// Alignment of tensor data (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the data section.
    public let dataOffset: Int
    private let data: Data
    /// The mapping `data` views (nil when parsed from bytes in memory): weights reference it in place.
    private let mapping: MappedFile?

    /// The metadata value for `key`.
    public func value(_ key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

    /// The tensor called `name`.
    public func tensor(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// Calls `body` with the raw bytes of `tensor`.
    public func withBytes<R>(of tensor: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try data.withUnsafeBytes { raw in
            try body(UnsafeRawBufferPointer(rebasing: raw[(dataOffset + tensor.offset)..<(dataOffset + tensor.offset + tensor.byteCount)]))
        }
    }

    /// The tensor's values as f32.
    /// - Throws: ``CheckpointError/unknownTensorType(path:tensor:type:)`` for types that cannot be dequantized.
    public func floats(_ tensor: TensorInfo) throws -> [Float] {
        guard tensor.type.canDequantize else {
            throw CheckpointError.unknownTensorType(path: url.path, tensor: tensor.name, type: tensor.type.rawValue)
        }
        return withBytes(of: tensor) { Dequantizer.dequantize(tensor.type, $0, count: tensor.elementCount) }
    }

    /// A 2-D tensor as a ``WeightMatrix`` — (outputs, inputs) = (dimensions[1], dimensions[0]) —
    /// referencing the mapped file in place (copied when the file was parsed from memory).
    /// - Throws: ``CheckpointError/unusableMatrix(path:tensor:type:reason:)`` for a type without
    ///   kernels or rows that do not hold whole blocks.
    public func weightMatrix(_ tensor: TensorInfo) throws -> WeightMatrix {
        let rows = tensor.dimensions.count > 1 ? tensor.dimensions.dropFirst().reduce(1, *) : 1
        let columns = tensor.dimensions.first ?? 1
        let matrix: WeightMatrix?
        if let mapping, let base = mapping.bytes.baseAddress {
            // In place: the pointer comes from the mapping itself, which the matrix keeps alive.
            let bytes = UnsafeRawBufferPointer(start: base + dataOffset + tensor.offset, count: tensor.byteCount)
            matrix = WeightMatrix(type: tensor.type, rows: rows, columns: columns, bytes: bytes, owner: mapping)
        } else {
            matrix = withBytes(of: tensor) { WeightMatrix(type: tensor.type, rows: rows, columns: columns, copying: Array($0)) }
        }
        guard let matrix else {
            let reason = WeightMatrix.supports(tensor.type)
                ? "rows of \(columns) values do not hold whole blocks of \(tensor.type.blockSize)" : "no matrix kernels for this type"
            throw CheckpointError.unusableMatrix(path: url.path, tensor: tensor.name, type: tensor.type.description, reason: reason)
        }
        return matrix
    }

    /// Opens and validates the file at `url` (memory-mapped, read-only and shared).
    /// - Throws: ``CheckpointError`` naming the byte offset or tensor of the first problem.
    public init(contentsOf url: URL) throws {
        let mapping: MappedFile
        do { mapping = try MappedFile(url: url) } catch {
            throw CheckpointError.unreadable(path: url.path, reason: error.reason)
        }
        try self.init(data: mapping.data, url: url, mapping: mapping)
    }

    /// Parses GGUF `data` read from `url`.
    public init(data: Data, url: URL) throws {
        try self.init(data: data, url: url, mapping: nil)
    }

    private init(data: Data, url: URL, mapping: MappedFile?) throws {
        let path = url.path
        var reader = ByteReader(data: data, path: path)
        try reader.require(4, reading: "the magic number")
        let magic = try reader.bytes(4, reading: "the magic number")
        guard magic.elementsEqual("GGUF".utf8) else {
            throw CheckpointError.badMagic(path: path, found: magic.map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0)) : String(format: "\\x%02x", $0) }.joined())
        }
        let version = try reader.u32("the version")
        guard version == 2 || version == 3 else { throw CheckpointError.unsupportedVersion(path: path, version: version) }
        let tensorCount = try reader.u64("the tensor count")
        let kvCount = try reader.u64("the metadata count")
        try reader.checkCount(kvCount, minimumSize: 13, what: "the metadata count")
        var metadata: [(key: String, value: GGUFValue)] = []
        metadata.reserveCapacity(Int(kvCount))
        for _ in 0..<kvCount {
            let key = try Self.string(&reader, reading: "a metadata key")
            let typeOffset = reader.offset
            let typeID = try reader.u32("the type of '\(key)'")
            guard let type = GGUFValue.TypeID(rawValue: typeID) else {
                throw CheckpointError.unknownValueType(path: path, offset: typeOffset, key: key, type: typeID)
            }
            metadata.append((key, try Self.value(&reader, type: type, key: key)))
        }
        try reader.checkCount(tensorCount, minimumSize: 8 + 1 + 4 + 8 + 4 + 8, what: "the tensor count")
        var alignment: UInt64 = 32
        if let value = metadata.first(where: { $0.key == "general.alignment" })?.value, let a = value.integer {
            alignment = UInt64(max(0, a))
            guard alignment > 0, alignment & (alignment - 1) == 0 else { throw CheckpointError.invalidAlignment(path: path, alignment: alignment) }
        }
        var infos: [(name: String, dims: [UInt64], type: UInt32, offset: UInt64)] = []
        var names = Set<String>()
        for _ in 0..<tensorCount {
            let name = try Self.string(&reader, reading: "a tensor name")
            guard names.insert(name).inserted else { throw CheckpointError.duplicateTensor(path: path, tensor: name) }
            let dimensionCount = try reader.u32("the dimension count of '\(name)'")
            guard dimensionCount >= 1, dimensionCount <= 4 else {
                throw CheckpointError.badShape(path: path, tensor: name, dimensions: [], reason: "\(dimensionCount) dimensions; GGUF tensors have 1 to 4")
            }
            var dims: [UInt64] = []
            for _ in 0..<dimensionCount { dims.append(try reader.u64("the dimensions of '\(name)'")) }
            let type = try reader.u32("the type of '\(name)'")
            let offset = try reader.u64("the data offset of '\(name)'")
            infos.append((name, dims, type, offset))
        }
        let afterInfos = UInt64(reader.offset)
        let dataStart = (afterInfos + alignment - 1) / alignment * alignment
        guard dataStart <= UInt64(data.count) else {
            throw CheckpointError.truncated(path: path, offset: reader.offset, needed: Int(dataStart - afterInfos), available: reader.remaining, reading: "the alignment padding")
        }
        let dataSize = UInt64(data.count) - dataStart
        var tensors: [TensorInfo] = []
        for info in infos {
            guard let type = GGMLType(rawValue: info.type) else {
                throw CheckpointError.unknownTensorType(path: path, tensor: info.name, type: info.type)
            }
            var elements: UInt64 = 1
            for d in info.dims {
                guard d > 0 else { throw CheckpointError.badShape(path: path, tensor: info.name, dimensions: info.dims, reason: "a dimension is zero") }
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= UInt64(Int.max) else {
                    throw CheckpointError.badShape(path: path, tensor: info.name, dimensions: info.dims, reason: "the element count overflows")
                }
                elements = product
            }
            guard let bytes = type.byteCount(elements: Int(elements)) else {
                throw CheckpointError.badShape(path: path, tensor: info.name, dimensions: info.dims,
                                               reason: "\(elements) elements is not a whole number of \(type) blocks of \(type.blockSize)")
            }
            guard info.offset % alignment == 0 else {
                throw CheckpointError.misalignedTensor(path: path, tensor: info.name, offset: info.offset, alignment: alignment)
            }
            let (end, overflow) = info.offset.addingReportingOverflow(UInt64(bytes))
            guard !overflow, end <= dataSize else {
                throw CheckpointError.tensorOutOfBounds(path: path, tensor: info.name, start: dataStart &+ info.offset,
                                                        end: overflow ? .max : dataStart + end, fileSize: UInt64(data.count))
            }
            tensors.append(TensorInfo(name: info.name, dimensions: info.dims.map { Int($0) }, type: type, offset: Int(info.offset),
                                      elementCount: Int(elements), byteCount: bytes))
        }
        let sorted = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw CheckpointError.overlappingTensors(path: path, first: a.name, second: b.name)
        }
        self.url = url
        self.version = version
        self.metadata = metadata
        self.tensors = tensors
        self.alignment = Int(alignment)
        self.dataOffset = Int(dataStart)
        self.data = data
        self.mapping = mapping
    }

    static func string(_ reader: inout ByteReader, reading: String) throws -> String {
        let length = try reader.u64("the length of \(reading)")
        guard length <= UInt64(reader.remaining) else {
            throw CheckpointError.truncated(path: reader.path, offset: reader.offset, needed: Int(clamping: length), available: reader.remaining, reading: reading)
        }
        let start = reader.offset
        let bytes = try reader.bytes(Int(length), reading: reading)
        guard let text = String(data: bytes, encoding: .utf8) else { throw CheckpointError.invalidString(path: reader.path, offset: start) }
        return text
    }

    static func value(_ reader: inout ByteReader, type: GGUFValue.TypeID, key: String) throws -> GGUFValue {
        let what = "the value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try reader.u8(what))
        case .int8: return .int8(try reader.i8(what))
        case .uint16: return .uint16(try reader.u16(what))
        case .int16: return .int16(try reader.i16(what))
        case .uint32: return .uint32(try reader.u32(what))
        case .int32: return .int32(try reader.i32(what))
        case .float32: return .float32(try reader.f32(what))
        case .bool: return .bool(try reader.u8(what) != 0)
        case .string: return .string(try string(&reader, reading: what))
        case .uint64: return .uint64(try reader.u64(what))
        case .int64: return .int64(try reader.i64(what))
        case .float64: return .float64(try reader.f64(what))
        case .array:
            let elementOffset = reader.offset
            let elementID = try reader.u32("the element type of '\(key)'")
            guard let elementType = GGUFValue.TypeID(rawValue: elementID) else {
                throw CheckpointError.unknownValueType(path: reader.path, offset: elementOffset, key: key, type: elementID)
            }
            let count = try reader.u64("the length of '\(key)'")
            try reader.checkCount(count, minimumSize: elementType.minimumSize, what: "the length of '\(key)'")
            var elements: [GGUFValue] = []
            elements.reserveCapacity(Int(count))
            for _ in 0..<count { elements.append(try value(&reader, type: elementType, key: key)) }
            return .array(elements)
        }
    }
}
