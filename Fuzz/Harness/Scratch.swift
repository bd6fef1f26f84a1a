import Foundation

/// The files one fuzz input is written to, so that it takes the path a user's file takes (opened,
/// memory-mapped, its directory searched): a fresh directory per input — in memory when
/// `/dev/shm` exists — removed afterwards, so that inputs run at once (the tests run in parallel)
/// never share a file.
struct Scratch: ~Copyable {
    let root: URL

    private static let base = FileManager.default.isWritableFile(atPath: "/dev/shm")
        ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
    init() {
        root = Self.base.appendingPathComponent("assay-fuzz-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) } catch {
            preconditionFailure("cannot create the fuzz scratch directory \(root.path): \(error)")
        }
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    /// A directory under the scratch root (created when missing).
    func directory(_ name: String) -> URL {
        let url = root.appendingPathComponent(name, isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `data` to `path` under the scratch root and returns its URL.
    func write(_ data: Data, to path: String) -> URL {
        let url = root.appendingPathComponent(path)
        do { try data.write(to: url) } catch { preconditionFailure("cannot write the fuzz input to \(url.path): \(error)") }
        return url
    }

    /// A symbolic link at `path` under the scratch root to `target` (the unchanging half of a
    /// two-file input, or the fixtures a suite names).
    func link(_ target: URL, at path: String) {
        let link = root.appendingPathComponent(path)
        do { try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target) } catch {
            preconditionFailure("cannot link \(link.path) to \(target.path) for the fuzz target: \(error)")
        }
    }
}

/// The repository's fixtures, found from this source file (the fuzzers and the tests run from a checkout).
enum Fixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ path: String) -> URL { repository.appendingPathComponent("Fixtures").appendingPathComponent(path) }
}
