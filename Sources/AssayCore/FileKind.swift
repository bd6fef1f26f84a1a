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
