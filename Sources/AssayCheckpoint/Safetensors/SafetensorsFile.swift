import AssayTensor
import Foundation

/// A safetensors file, memory-mapped and validated: the JSON header's tensors must have known
/// dtypes, shapes that match their byte ranges, and ranges inside the file that neither overlap
/// nor leave holes (as the `safetensors` library requires).
public struct SafetensorsFile: Sendable {
    /// Element types of safetensors.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16, .i16: return 2
            case .i8, .u8, .bool: return 1
            }
        }
    }

    /// One tensor.
    public struct TensorInfo: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        /// Shape, outermost first (PyTorch order).
        public var shape: [Int]
        /// Byte range inside the data section.
        public var range: Range<Int>
        /// Number of elements.
        public var elementCount: Int { shape.reduce(1, *) }
    }

    /// The file.
    public let url: URL
    /// Tensors sorted by data offset.
    public let tensors: [TensorInfo]
    /// `__metadata__` strings.
    public let metadata: [String: String]
    private let data: Data
    private let dataStart: Int
    /// The mapping `data` views: weights reference it in place.
    private let mapping: MappedFile

    /// The tensor called `name`.
    public func tensor(_ name: String) -> TensorInfo? { tensors.first { $0.name == name } }

    /// Largest JSON header accepted (100 MB, the safetensors library's limit).
    public static let maximumHeaderSize = 100_000_000

    /// Opens and validates the file at `url`.
    /// - Throws: ``CheckpointError`` naming the tensor or byte offset of the first problem.
    public init(contentsOf url: URL) throws {
        let mapping: MappedFile
        do { mapping = try MappedFile(url: url) } catch {
            throw CheckpointError.unreadable(path: url.path, reason: error.reason)
        }
        let data = mapping.data
        let path = url.path
        var reader = ByteReader(data: data, path: path)
        let headerSize = try reader.u64("the header size")
        guard headerSize <= UInt64(Self.maximumHeaderSize) else {
            throw CheckpointError.implausibleCount(path: path, offset: 0, what: "the JSON header size", count: headerSize, limit: UInt64(Self.maximumHeaderSize))
        }
        let header = try reader.bytes(Int(headerSize), reading: "the JSON header")
        guard let object = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw CheckpointError.invalidHeader(path: path, message: "the header is not a JSON object")
        }
        let dataStart = 8 + Int(headerSize)
        let dataSize = data.count - dataStart
        var metadata: [String: String] = [:]
        var tensors: [TensorInfo] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let entries = value as? [String: Any] else {
                    throw CheckpointError.invalidHeader(path: path, message: "__metadata__ must map strings to strings")
                }
                for (k, v) in entries {
                    guard let s = v as? String else { throw CheckpointError.invalidHeader(path: path, message: "__metadata__.\(k) is not a string") }
                    metadata[k] = s
                }
                continue
            }
            guard let entry = value as? [String: Any], let dtypeName = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Any], let offsets = entry["data_offsets"] as? [Any], offsets.count == 2 else {
                throw CheckpointError.invalidHeader(path: path, message: "tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw CheckpointError.invalidHeader(path: path, message: "tensor '\(name)' has unsupported dtype '\(dtypeName)' (supported: \(DType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var dims: [Int] = []
            var elements = 1
            for d in shape {
                guard let n = (d as? NSNumber)?.intValue, n >= 0, "\(d)" == "\(n)" else {
                    throw CheckpointError.invalidHeader(path: path, message: "tensor '\(name)' has a shape entry that is not a non-negative integer")
                }
                let (product, overflow) = elements.multipliedReportingOverflow(by: n)
                guard !overflow else { throw CheckpointError.badShape(path: path, tensor: name, dimensions: [], reason: "the element count overflows") }
                elements = product
                dims.append(n)
            }
            guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue, begin >= 0, end >= begin else {
                throw CheckpointError.invalidHeader(path: path, message: "tensor '\(name)' has invalid data_offsets")
            }
            let (bytes, overflow) = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, bytes == end - begin else {
                throw CheckpointError.badShape(path: path, tensor: name, dimensions: dims.map(UInt64.init),
                                               reason: "\(elements) \(dtype.rawValue) elements need \(overflow ? "too many" : String(bytes)) bytes, data_offsets give \(end - begin)")
            }
            guard end <= dataSize else {
                throw CheckpointError.tensorOutOfBounds(path: path, tensor: name, start: UInt64(dataStart + begin), end: UInt64(dataStart + end), fileSize: UInt64(data.count))
            }
            tensors.append(TensorInfo(name: name, dtype: dtype, shape: dims, range: begin..<end))
        }
        tensors.sort { ($0.range.lowerBound, $0.range.upperBound) < ($1.range.lowerBound, $1.range.upperBound) }
        var position = 0
        for (index, t) in tensors.enumerated() {
            if t.range.lowerBound < position {
                throw CheckpointError.overlappingTensors(path: path, first: tensors[index - 1].name, second: t.name)
            }
            guard t.range.lowerBound == position else {
                throw CheckpointError.invalidHeader(path: path, message: "bytes \(position)..<\(t.range.lowerBound) of the data belong to no tensor (before '\(t.name)')")
            }
            position = t.range.upperBound
        }
        guard position == dataSize else {
            throw CheckpointError.invalidHeader(path: path, message: "the data section has \(dataSize) bytes but the tensors cover \(position)")
        }
        self.url = url
        self.tensors = tensors
        self.metadata = metadata
        self.data = data
        self.mapping = mapping
        self.dataStart = dataStart
    }

    /// A 2-D tensor — (outputs, inputs), PyTorch's `Linear` layout — as a ``WeightMatrix``: F32,
    /// F16 and BF16 referenced in place in the mapped file, F64 converted to f32.
    /// - Throws: ``CheckpointError/unusableMatrix(path:tensor:type:reason:)`` for integer tensors
    ///   or a shape that is not 2-D.
    public func weightMatrix(_ tensor: TensorInfo) throws -> WeightMatrix {
        guard tensor.shape.count == 2, tensor.shape[0] > 0, tensor.shape[1] > 0 else {
            throw CheckpointError.unusableMatrix(path: url.path, tensor: tensor.name, type: tensor.dtype.rawValue, reason: "shape \(tensor.shape) is not a matrix")
        }
        let rows = tensor.shape[0], columns = tensor.shape[1]
        let type: GGMLType
        switch tensor.dtype {
        case .f32: type = .f32
        case .f16: type = .f16
        case .bf16: type = .bf16
        case .f64: return WeightMatrix(values: try floats(tensor), rows: rows, columns: columns)
        default: throw CheckpointError.unusableMatrix(path: url.path, tensor: tensor.name, type: tensor.dtype.rawValue, reason: "not a float type")
        }
        let matrix = mapping.bytes.baseAddress.flatMap { base in
            WeightMatrix(type: type, rows: rows, columns: columns,
                         bytes: UnsafeRawBufferPointer(start: base + dataStart + tensor.range.lowerBound, count: tensor.range.count), owner: mapping)
        }
        guard let matrix else {
            throw CheckpointError.unusableMatrix(path: url.path, tensor: tensor.name, type: tensor.dtype.rawValue, reason: "its bytes do not match its shape")
        }
        return matrix
    }

    /// The tensor's values as f32 (F32, F16, BF16 and F64 tensors).
    /// - Throws: ``CheckpointError/invalidHeader(path:message:)`` for integer tensors.
    public func floats(_ tensor: TensorInfo) throws -> [Float] {
        try data.withUnsafeBytes { raw in
            let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + tensor.range.lowerBound)..<(dataStart + tensor.range.upperBound)])
            let n = tensor.elementCount
            switch tensor.dtype {
            case .f32: return (0..<n).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .f16: return Dequantizer.dequantize(.f16, bytes, count: n)
            case .bf16: return Dequantizer.dequantize(.bf16, bytes, count: n)
            case .f64: return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            default:
                throw CheckpointError.invalidHeader(path: url.path, message: "tensor '\(tensor.name)' is \(tensor.dtype.rawValue), not a float type")
            }
        }
    }
}
