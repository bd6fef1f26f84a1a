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

    /// Writes `data` as it is, atomically: for files whose secrets were masked field by field
    /// (a shard file's item texts must reach the merge unchanged).
    public static func write(exactly data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try data.write(to: temporary)
            if rename(temporary.path, url.path) != 0 {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// `data` with secrets masked when it is text (``Redaction``).
    public static func scrubbed(_ data: Data) -> Data {
        String(data: data, encoding: .utf8).map { Data(Redaction.scrub($0).utf8) } ?? data
    }
}
