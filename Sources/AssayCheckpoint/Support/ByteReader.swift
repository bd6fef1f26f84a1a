import Foundation

/// A bounds-checked, explicitly little-endian reader over a file's bytes. Every read checks the
/// remaining length first and throws ``CheckpointError/truncated(path:offset:needed:available:reading:)``.
public struct ByteReader {
    /// The bytes (usually memory-mapped).
    public let data: Data
    /// The file, for error messages.
    public let path: String
    /// The next byte to read.
    public private(set) var offset: Int

    /// Creates a reader at `offset`.
    public init(data: Data, path: String, offset: Int = 0) {
        self.data = data
        self.path = path
        self.offset = offset
    }

    /// Bytes left after ``offset``.
    public var remaining: Int { data.count - offset }

    /// Throws unless `count` more bytes are available.
    public func require(_ count: Int, reading: String) throws {
        guard count >= 0, count <= remaining else {
            throw CheckpointError.truncated(path: path, offset: offset, needed: count, available: max(0, remaining), reading: reading)
        }
    }

    mutating func integer<T: FixedWidthInteger>(_ type: T.Type, reading: String) throws -> T {
        try require(MemoryLayout<T>.size, reading: reading)
        let value = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        offset += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    public mutating func u8(_ reading: String) throws -> UInt8 { try integer(UInt8.self, reading: reading) }
    public mutating func u16(_ reading: String) throws -> UInt16 { try integer(UInt16.self, reading: reading) }
    public mutating func u32(_ reading: String) throws -> UInt32 { try integer(UInt32.self, reading: reading) }
    public mutating func u64(_ reading: String) throws -> UInt64 { try integer(UInt64.self, reading: reading) }
    public mutating func i8(_ reading: String) throws -> Int8 { try integer(Int8.self, reading: reading) }
    public mutating func i16(_ reading: String) throws -> Int16 { try integer(Int16.self, reading: reading) }
    public mutating func i32(_ reading: String) throws -> Int32 { try integer(Int32.self, reading: reading) }
    public mutating func i64(_ reading: String) throws -> Int64 { try integer(Int64.self, reading: reading) }
    public mutating func f32(_ reading: String) throws -> Float { Float(bitPattern: try u32(reading)) }
    public mutating func f64(_ reading: String) throws -> Double { Double(bitPattern: try u64(reading)) }

    /// Raw bytes.
    public mutating func bytes(_ count: Int, reading: String) throws -> Data {
        try require(count, reading: reading)
        let start = data.startIndex + offset
        defer { offset += count }
        return data[start..<(start + count)]
    }

    /// Moves to `newOffset` (within the data).
    public mutating func seek(to newOffset: Int) throws {
        guard newOffset >= 0, newOffset <= data.count else {
            throw CheckpointError.truncated(path: path, offset: offset, needed: newOffset - offset, available: remaining, reading: "padding")
        }
        offset = newOffset
    }

    /// Throws ``CheckpointError/implausibleCount(path:offset:what:count:limit:)`` unless `count`
    /// items of at least `minimumSize` bytes each fit in the rest of the file.
    public func checkCount(_ count: UInt64, minimumSize: Int, what: String) throws {
        let limit = UInt64(max(0, remaining)) / UInt64(max(1, minimumSize))
        guard count <= limit else {
            throw CheckpointError.implausibleCount(path: path, offset: offset, what: what, count: count, limit: limit)
        }
    }
}
