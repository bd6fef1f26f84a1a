import Foundation

/// Files the fuzz targets write their input to, so that it takes the path a user's file takes
/// (opened, memory-mapped, its directory searched). One directory per process, in memory when
/// `/dev/shm` exists, removed at exit.
enum Scratch {
    static let root: URL = {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        let root = base.appendingPathComponent("assay-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return root
    }()

    /// A directory under the scratch root (created when missing).
    static func directory(_ name: String) -> URL {
        let url = root.appendingPathComponent(name, isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `data` to `path` under the scratch root and returns its URL.
    static func write(_ data: Data, to path: String) -> URL {
        let url = root.appendingPathComponent(path)
        do { try data.write(to: url) } catch { preconditionFailure("cannot write the fuzz input to \(url.path): \(error)") }
        return url
    }

    /// Copies `source` to `destination` once (the unchanging half of a two-file input).
    static func copy(_ source: URL, to destination: URL) {
        guard !FileManager.default.fileExists(atPath: destination.path) else { return }
        do { try FileManager.default.copyItem(at: source, to: destination) } catch {
            preconditionFailure("cannot copy \(source.path) for the fuzz target: \(error)")
        }
    }
}

extension Scratch {
    /// A symbolic link at `link` to `target` (made once).
    static func link(_ target: URL, at link: URL) {
        guard (try? FileManager.default.destinationOfSymbolicLink(atPath: link.path)) == nil else { return }
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
