import Foundation

/// What a path names, symbolic links followed (`stat`): whether reading or replacing it is
/// safe. A device is never read to its end (/dev/zero) and must not be replaced by a file
/// (/dev/null); a FIFO or socket is read as a stream.
public enum FileKind: Sendable, Equatable {
    case missing, regular, directory, device, fifo, socket, other

    public init(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { self = .missing; return }
        switch status.st_mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFCHR, S_IFBLK: self = .device
        case S_IFIFO: self = .fifo
        case S_IFSOCK: self = .socket
        default: self = .other
        }
    }
}

extension FileKind {
    /// Why a file could not be read whole.
    public struct ReadError: Error, LocalizedError, Equatable {
        public var path: String
        public var reason: String
        public var errorDescription: String? { "\(path): \(reason)" }
    }

    /// The whole content of `url`: a FIFO or socket (`<(…)`, which Foundation's
    /// `Data(contentsOf:)` refuses with "You don't have permission") read as a stream to its end;
    /// a device refused, since it has no end to read to (/dev/zero).
    /// - Throws: ``ReadError`` with the reason.
    public static func contents(of url: URL) throws -> Data {
        let kind = FileKind(path: url.path)
        if kind == .device { throw ReadError(path: url.path, reason: "it is a device, not a file") }
        do {
            guard kind == .fifo || kind == .socket else { return try Data(contentsOf: url) }
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            return try handle.readToEnd() ?? Data()
        } catch {
            throw ReadError(path: url.path, reason: error.localizedDescription)
        }
    }
}
