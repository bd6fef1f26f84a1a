import AssayCore
import Foundation

/// Reads text files the way sacrebleu's command line does: UTF-8, lines split at `\n` only,
/// trailing Python whitespace stripped from each line.
public enum UTF8Lines {
    /// The lines of `url`, each right-stripped as sacrebleu's CLI does.
    /// - Throws: ``MetricsError/unreadableFile(path:reason:)`` or
    ///   ``MetricsError/invalidUTF8(path:line:)`` naming the first bad line.
    public static func read(_ url: URL, rstrip: Bool = true) throws -> [String] {
        let data: Data
        do { data = try FileKind.contents(of: url) } catch let error as FileKind.ReadError {
            throw MetricsError.unreadableFile(path: url.path, reason: error.reason)
        }
        return try split(data, path: url.path, rstrip: rstrip)
    }

    /// Splits `data` into lines at `\n`; a final newline does not start an extra line.
    /// - Throws: ``MetricsError/invalidUTF8(path:line:)`` naming the first line that is not UTF-8.
    public static func split(_ data: Data, path: String, rstrip: Bool = true) throws -> [String] {
        var lines: [String] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var start = 0
            var lineNumber = 1
            func emit(_ end: Int) throws {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard let line = String(validating: slice, as: UTF8.self) else {
                    throw MetricsError.invalidUTF8(path: path, line: lineNumber)
                }
                lines.append(rstrip ? PythonText.rstrip(line) : line)
                lineNumber += 1
            }
            for i in 0..<bytes.count where bytes[i] == 0x0A {
                try emit(i)
                start = i + 1
            }
            if start < bytes.count { try emit(bytes.count) }
        }
        return lines
    }
}
