import AssayCore
import Foundation

/// Writes files so that readers see the old content or the new, never a part.
public enum AtomicFile {
    /// Writes `data` to a temporary file in the same directory, then renames it over `url`.
    /// Creates the directory if needed.
    /// - Throws: when the directory cannot be created or the file cannot be written.
    /// Text is written with secrets masked (``Redaction``): every report goes through here.
    public static func write(_ data: Data, to url: URL) throws {
        try write(exactly: scrubbed(data), to: url)
    }

    /// A file that could not be written: its path and why.
    public struct WriteError: LocalizedError, Equatable {
        public var path: String
        public var reason: String
        public var errorDescription: String? { "\(path): cannot write: \(reason)" }
        public var recoverySuggestion: String? { "give a file path in a directory you can write to" }
    }

    /// Writes `data` as it is, atomically: for files whose secrets were masked field by field
    /// (a shard file's item texts must reach the merge unchanged). A symbolic link is followed
    /// (the file it names is replaced, the link stays); a device or FIFO (/dev/stdout, /dev/null,
    /// a named pipe) is written into, not replaced by a file (found by probing, 2026-12-07:
    /// `--svg /dev/null` run as root had turned /dev/null into a regular file).
    /// - Throws: ``WriteError`` naming the path.
    public static func write(exactly data: Data, to url: URL) throws {
        let url = url.resolvingSymlinksInPath()
        var status = stat()
        if lstat(url.path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw WriteError(path: url.path, reason: "it is a directory")
            default:
                do {
                    let handle = try FileHandle(forWritingTo: url)
                    defer { try? handle.close() }
                    try handle.write(contentsOf: data)
                    return
                } catch {
                    throw WriteError(path: url.path, reason: error.localizedDescription)
                }
            }
        }
        let directory = url.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw WriteError(path: url.path, reason: String(cString: strerror(errno)))
            }
        } catch let error as WriteError {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            var existing = directory.standardizedFileURL
            while existing.path != "/", !FileManager.default.fileExists(atPath: existing.path) { existing.deleteLastPathComponent() }
            let reason = access(existing.path, W_OK) != 0 ? "\(existing.path) is not a writable directory" : error.localizedDescription
            throw WriteError(path: url.path, reason: reason)
        }
    }

    /// `data` with secrets masked when it is text (``Redaction``).
    public static func scrubbed(_ data: Data) -> Data {
        String(data: data, encoding: .utf8).map { Data(Redaction.scrub($0).utf8) } ?? data
    }
}
