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
    /// (a shard file's item texts must reach the merge unchanged). Found by probing, 2026-12-07
    /// (each had been renamed over, so a link became a file and, run as root, `--svg /dev/null`
    /// turned /dev/null into one):
    /// - the file of stdout or stderr (`/dev/stdout`, or the file it is redirected to) is
    ///   written through that descriptor, after what the command printed;
    /// - a symbolic link is followed, a dangling one too (its file is created; the link stays);
    /// - a device or FIFO is written into; a FIFO nobody reads is an error, not a wait.
    /// - Throws: ``WriteError`` naming the path.
    public static func write(exactly data: Data, to url: URL) throws {
        if let descriptor = standardDescriptor(for: url) {
            do {
                try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(contentsOf: data)
                return
            } catch {
                throw WriteError(path: url.path, reason: error.localizedDescription)
            }
        }
        let url = try target(of: url)
        switch FileKind(path: url.path) {
        case .missing, .regular: break
        case .directory: throw WriteError(path: url.path, reason: "it is a directory")
        case .device, .fifo, .socket, .other: return try writeInto(url, data)
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

    /// 1 or 2 when `url` (links followed) is the file stdout or stderr writes to.
    public static func standardDescriptor(for url: URL) -> Int32? {
        var file = stat()
        guard stat(url.path, &file) == 0 else { return nil }
        for descriptor: Int32 in [1, 2] {
            var open = stat()
            if fstat(descriptor, &open) == 0, open.st_dev == file.st_dev, open.st_ino == file.st_ino { return descriptor }
        }
        return nil
    }

    /// `url` with symbolic links followed, a link to a file that does not exist yet too, and the
    /// links in its directories resolved.
    /// - Throws: ``WriteError`` after 40 links (a loop).
    public static func target(of url: URL) throws -> URL {
        var path = url.standardizedFileURL.path
        for _ in 0..<40 {
            guard let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else {
                let file = URL(fileURLWithPath: path)
                return file.deletingLastPathComponent().resolvingSymlinksInPath().appendingPathComponent(file.lastPathComponent)
            }
            path = destination.hasPrefix("/") ? destination
                : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(destination).standardizedFileURL.path
        }
        throw WriteError(path: url.path, reason: "too many symbolic links (a loop)")
    }

    /// Writes `data` into a device or FIFO as it is (opened without blocking: ENXIO is a FIFO
    /// that nobody reads).
    static func writeInto(_ url: URL, _ data: Data) throws {
        let descriptor = open(url.path, O_WRONLY | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw WriteError(path: url.path, reason: errno == ENXIO ? "no process is reading this FIFO" : String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        do {
            try FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).write(contentsOf: data)
        } catch {
            throw WriteError(path: url.path, reason: error.localizedDescription)
        }
    }

    /// `data` with secrets masked when it is text (``Redaction``).
    public static func scrubbed(_ data: Data) -> Data {
        String(data: data, encoding: .utf8).map { Data(Redaction.scrub($0).utf8) } ?? data
    }
}
