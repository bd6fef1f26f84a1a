import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SHA-256 digests of files already hashed, so that a model's signature does not read its
/// gigabytes again: within a process (a suite's evaluations of one model each asked for it), and
/// for regular files of 64 MiB or more across processes, in `$XDG_CACHE_HOME/assay/sha256` (else
/// `~/.cache/assay/sha256`; `ASSAY_HASH_CACHE=off` turns that off). A 7B Q4_K file took 3.7 s to
/// hash on every run.
///
/// An entry is keyed by the path and the identity of the file read — device, inode, size, and the
/// modification and status-change times to the nanosecond, from `fstat` of the open file before
/// and after reading — so a file written again, renamed over, touched or changed in its
/// permissions is hashed again (a program can set a file's modification time but not its
/// status-change time). Not remembered:
/// - a file whose last change is less than two seconds older than the start of the read:
///   timestamps advance in ticks of a few milliseconds, so a write in the same tick as the read
///   could leave the same identity over other bytes (git's "racy" index entries);
/// - on disk, a file whose status-change time equals its modification time with zero nanoseconds
///   (filesystem images with fixed timestamps, where a remount may reuse the device number).
///
/// Trusting an identity trusts the clock: a network filesystem whose server clock is behind, or a
/// clock stepped back, weakens the two-second rule (then set `ASSAY_HASH_CACHE=off`).
enum FileDigests {
    /// What `fstat` says of an open regular file.
    struct Identity: Equatable {
        var device: UInt64, inode: UInt64, size: Int64
        var modified: (seconds: Int64, nanoseconds: Int64), changed: (seconds: Int64, nanoseconds: Int64)

        /// nil for anything but a regular file (pipes, devices, directories) or when `fstat` fails.
        init?(of descriptor: Int32) {
            var info = stat()
            guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
            size = Int64(info.st_size)
            #if os(Linux)
            modified = (Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec))
            changed = (Int64(info.st_ctim.tv_sec), Int64(info.st_ctim.tv_nsec))
            #else
            modified = (Int64(info.st_mtimespec.tv_sec), Int64(info.st_mtimespec.tv_nsec))
            changed = (Int64(info.st_ctimespec.tv_sec), Int64(info.st_ctimespec.tv_nsec))
            #endif
        }

        static func == (a: Identity, b: Identity) -> Bool { a.key == b.key }

        var key: String { "\(device) \(inode) \(size) \(modified.seconds).\(modified.nanoseconds) \(changed.seconds).\(changed.nanoseconds)" }

        /// Seconds since the file's last change (modification or status change).
        var age: Double {
            let last = max(Double(modified.seconds) + Double(modified.nanoseconds) / 1e9, Double(changed.seconds) + Double(changed.nanoseconds) / 1e9)
            return Date().timeIntervalSince1970 - last
        }

        /// Timestamps an image builder fixed rather than a clock wrote.
        var timestampsLookFixed: Bool { modified.nanoseconds == 0 && modified == changed }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var known: [String: String] = [:]

    /// The files of 64 MiB or more are remembered on disk too.
    static let persistentSize: Int64 = 64 << 20
    /// At most this many entries stay on disk (the oldest go first).
    static let persistentEntries = 256

    static var directory: URL? { directory(environment: ProcessInfo.processInfo.environment) }

    /// The cache's folder under `environment`; nil when turned off or without a home.
    static func directory(environment: [String: String]) -> URL? {
        // off, as documented; 0, false and no as other tools' switches read.
        if let setting = environment["ASSAY_HASH_CACHE"]?.lowercased(), ["off", "0", "false", "no"].contains(setting) { return nil }
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") {
            return URL(fileURLWithPath: base).appendingPathComponent("assay/sha256")
        }
        guard let home = environment["HOME"], home.hasPrefix("/") else { return nil }
        return URL(fileURLWithPath: home).appendingPathComponent(".cache/assay/sha256")
    }

    private static func key(_ url: URL, _ identity: Identity) -> String { url.standardizedFileURL.path + " " + identity.key }

    /// The digest remembered for `url` read as `identity`, if any (`directory`: the cache on disk).
    static func lookup(_ url: URL, _ identity: Identity, in directory: URL? = FileDigests.directory) -> String? {
        let key = key(url, identity)
        lock.lock()
        let memo = known[key]
        lock.unlock()
        if let memo { return memo }
        guard identity.size >= persistentSize, let entry = directory?.appendingPathComponent(SHA256.hex(Data(key.utf8))),
              let data = try? Data(contentsOf: entry), data.count == 64,
              data.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
        let digest = String(decoding: data, as: UTF8.self)
        remember(key, digest)
        return digest
    }

    /// Remembers `digest` for `url` read as `identity` — the identity taken before the read, and
    /// unchanged after it, of a file that had not changed for two seconds when the read began (the
    /// caller's check; this one only refuses a file changed less than two seconds ago) — in
    /// memory, and on disk when the file is large. A cache that cannot be written is left alone.
    static func store(_ url: URL, _ identity: Identity, digest: String, in directory: URL? = FileDigests.directory) {
        guard identity.age >= 2 else { return }
        let key = key(url, identity)
        remember(key, digest)
        guard identity.size >= persistentSize, !identity.timestampsLookFixed, let directory else { return }
        let entry = directory.appendingPathComponent(SHA256.hex(Data(key.utf8)))
        let temporary = directory.appendingPathComponent(".\(entry.lastPathComponent).\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(digest.utf8).write(to: temporary)
            guard rename(temporary.path, entry.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
            trim(directory)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
        }
    }

    /// Removes the oldest entries beyond ``persistentEntries`` (every build of a binary that
    /// hashes itself adds one).
    private static func trim(_ directory: URL) {
        guard let entries = try? FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey]),
              entries.count > persistentEntries else { return }
        let dated = entries.map { ($0, (try? $0.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast) }
        for (url, _) in dated.sorted(by: { $0.1 < $1.1 }).prefix(entries.count - persistentEntries) { try? FileManager.default.removeItem(at: url) }
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
