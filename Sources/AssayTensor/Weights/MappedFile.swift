#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A file mapped read-only into memory (`mmap`, shared): its pages come from the page cache, are
/// read only when touched, and are shared between processes mapping the same file — weights
/// referenced in place cost no copy and no load time. Unmapped when the last reference goes.
public final class MappedFile: @unchecked Sendable {
    /// Why a file could not be mapped.
    public struct Failure: Error, Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    public let url: URL
    /// The file's bytes (empty for an empty file).
    public let bytes: UnsafeRawBufferPointer

    /// Maps the file at `url`.
    /// - Throws: ``Failure`` with the system's reason when it cannot be opened, measured or mapped.
    public init(url: URL) throws(Failure) {
        self.url = url
        let descriptor = open(url.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Failure(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Failure(path: url.path, reason: String(cString: strerror(errno))) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw Failure(path: url.path, reason: "not a regular file") }
        let count = Int(status.st_size)
        guard count > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let base = mmap(nil, count, PROT_READ, MAP_SHARED, descriptor, 0), base != MAP_FAILED else {
            throw Failure(path: url.path, reason: String(cString: strerror(errno)))
        }
        bytes = UnsafeRawBufferPointer(start: base, count: count)
    }

    /// The bytes as `Data` without a copy, valid while this mapping lives (keep a reference).
    public var data: Data {
        guard let base = bytes.baseAddress else { return Data() }
        return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: base), count: bytes.count, deallocator: .none)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
