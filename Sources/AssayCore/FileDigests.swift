import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// SHA-256 digests of files already hashed, so that a model's signature does not read its
/// gigabytes again: within a process (a suite's evaluations of one model each asked for it), and
/// for files of 64 MiB or more across processes, in `$XDG_CACHE_HOME/assay/sha256` (else
/// `~/.cache/assay/sha256`; `ASSAY_HASH_CACHE=off` turns that off). A 7B Q4_K file took 3.7 s to
/// hash on every run.
///
/// An entry is keyed by the file's identity as `stat` gives it — device, inode, size, and the
/// modification and status-change times to the nanosecond — so a file written again, renamed over,
/// touched or changed in its permissions is hashed again (a program can set a file's modification
/// time but not its status-change time). A file changed within the last two seconds is not
/// remembered: timestamps advance in ticks of a few milliseconds, so a second write in the same
/// tick could leave the same identity (git's "racy" index entries).
enum FileDigests {
    /// The file's identity, or nil when `stat` fails.
    static func identity(of url: URL) -> String? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return "\(info.st_dev) \(info.st_ino) \(info.st_size) \(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec) \(info.st_ctim.tv_sec).\(info.st_ctim.tv_nsec)"
    }

    /// Whether the file changed within the last two seconds (its identity may not be unique yet).
    static func isRecent(_ url: URL) -> Bool {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return true }
        let changed = max(Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9,
                          Double(info.st_ctim.tv_sec) + Double(info.st_ctim.tv_nsec) / 1e9)
        return Date().timeIntervalSince1970 - changed < 2
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var known: [String: String] = [:]

    /// The files of 64 MiB or more are remembered on disk too.
    static let persistentSize: Int64 = 64 << 20

    static var directory: URL? {
        let environment = ProcessInfo.processInfo.environment
        if environment["ASSAY_HASH_CACHE"] == "off" { return nil }
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") {
            return URL(fileURLWithPath: base).appendingPathComponent("assay/sha256")
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/assay/sha256")
    }

    /// The digest remembered for `url` at `identity`, if any (`directory`: the cache on disk).
    static func lookup(_ url: URL, identity: String, size: Int64, in directory: URL? = FileDigests.directory) -> String? {
        let key = url.standardizedFileURL.path + " " + identity
        lock.lock()
        let memo = known[key]
        lock.unlock()
        if let memo { return memo }
        guard size >= persistentSize, let entry = directory?.appendingPathComponent(SHA256.hex(Data(key.utf8))),
              let data = try? Data(contentsOf: entry), data.count == 64,
              data.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        let digest = String(decoding: data, as: UTF8.self)
        remember(key, digest)
        return digest
    }

    /// Remembers `digest` for `url` at `identity` (in memory; on disk when the file is large),
    /// unless the file changed in the last two seconds. A cache that cannot be written is left alone.
    static func store(_ url: URL, identity: String, size: Int64, digest: String, in directory: URL? = FileDigests.directory) {
        guard !isRecent(url) else { return }
        let key = url.standardizedFileURL.path + " " + identity
        remember(key, digest)
        guard size >= persistentSize, let directory else { return }
        let entry = directory.appendingPathComponent(SHA256.hex(Data(key.utf8)))
        let temporary = directory.appendingPathComponent(".\(entry.lastPathComponent).\(getpid())")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(digest.utf8).write(to: temporary)
            guard rename(temporary.path, entry.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    private static func remember(_ key: String, _ digest: String) {
        lock.lock()
        known[key] = digest
        lock.unlock()
    }

    /// Forgets what this process remembered (tests of the cache on disk).
    static func forgetInMemory() {
        lock.lock()
        known = [:]
        lock.unlock()
    }
}
