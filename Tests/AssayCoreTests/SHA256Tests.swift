@testable import AssayCore
import AssayTestSupport
import Foundation
import Testing

struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func knownVectors(_ input: String, _ digest: String) {
        #expect(SHA256.hex(Data(input.utf8)) == digest)
    }

    @Test func millionAsAndChunkedFilesAgree() throws {
        let million = Data(repeating: 0x61, count: 1_000_000)
        #expect(SHA256.hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        let url = try TestEnvironment.temporaryDirectory().appendingPathComponent("blob")
        var bytes = [UInt8](repeating: 0, count: (4 << 20) + 12345)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        try Data(bytes).write(to: url)
        #expect(try SHA256.hex(fileAt: url) == SHA256.hex(Data(bytes)))
    }
}

/// Digests remembered by file identity: a changed file is hashed again, a file changed in the last
/// two seconds is not remembered, and large files' digests are found on disk by the next process.
@Suite(.serialized)
struct FileDigestsTests {
    static func identity(_ url: URL) throws -> FileDigests.Identity {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        return try #require(FileDigests.Identity(of: handle.fileDescriptor))
    }

    @Test func aChangedFileIsHashedAgainAndLargeOnesAreKeptOnDisk() throws {
        let directory = try TestEnvironment.temporaryDirectory("assay-digests")
        let cache = directory.appendingPathComponent("cache")
        let url = directory.appendingPathComponent("model.gguf")
        let size = Int(FileDigests.persistentSize)
        try Data(repeating: 7, count: size).write(to: url)
        let identity = try Self.identity(url)
        // Just written: not remembered (a second write in the same timestamp tick would look the same).
        FileDigests.store(url, identity, digest: String(repeating: "a", count: 64), in: cache)
        #expect(FileDigests.lookup(url, identity, in: cache) == nil)
        Thread.sleep(forTimeInterval: 2.1)
        let digest = SHA256.hex(Data(repeating: 7, count: size))
        FileDigests.store(url, identity, digest: digest, in: cache)
        FileDigests.forgetInMemory()
        #expect(FileDigests.lookup(url, identity, in: cache) == digest, "read back from disk")
        // The same size, other bytes, written in place: another identity, another digest.
        let handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: Data([8]))
        try handle.close()
        let rewritten = try Self.identity(url)
        #expect(rewritten != identity)
        #expect(FileDigests.lookup(url, rewritten, in: cache) == nil)
        var changed = Data(repeating: 7, count: size)
        changed[0] = 8
        #expect(try SHA256.hex(fileAt: url) == SHA256.hex(changed))
        // A damaged entry is not believed (the first identity's entry, found on disk until damaged).
        FileDigests.forgetInMemory()
        #expect(FileDigests.lookup(url, identity, in: cache) == digest)
        let entries = try FileManager.default.contentsOfDirectory(at: cache, includingPropertiesForKeys: nil).filter { !$0.lastPathComponent.hasPrefix(".") }
        #expect(entries.count == 1)
        try Data(String(repeating: "z", count: 64).utf8).write(to: entries[0])
        FileDigests.forgetInMemory()
        #expect(FileDigests.lookup(url, identity, in: cache) == nil)
    }

    /// A pipe has no identity to remember: read to its end as before (a seek had failed on it).
    @Test func aPipeIsReadToItsEnd() throws {
        let pipe = Pipe()
        try pipe.fileHandleForWriting.write(contentsOf: Data("abc".utf8))
        try pipe.fileHandleForWriting.close()
        let url = URL(fileURLWithPath: "/dev/fd/\(pipe.fileHandleForReading.fileDescriptor)")
        #expect(try SHA256.hex(fileAt: url) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// ASSAY_HASH_CACHE turns the disk cache off as `off` (documented), `0`, `false` or `no` in any case.
    @Test func theDiskCacheTurnsOff() {
        let home = ["HOME": "/home/u"]
        #expect(FileDigests.directory(environment: home)?.path == "/home/u/.cache/assay/sha256")
        #expect(FileDigests.directory(environment: home.merging(["XDG_CACHE_HOME": "/c"]) { $1 })?.path == "/c/assay/sha256")
        for setting in ["off", "OFF", "0", "false", "No"] {
            #expect(FileDigests.directory(environment: home.merging(["ASSAY_HASH_CACHE": setting]) { $1 }) == nil, "\(setting)")
        }
        #expect(FileDigests.directory(environment: home.merging(["ASSAY_HASH_CACHE": "on"]) { $1 }) != nil)
    }

    /// A device is refused, not read forever (`assay perplexity /dev/zero …` had hung hashing it).
    @Test func aDeviceIsNotHashed() throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        DispatchQueue.global().async {
            outcome.refused = (try? SHA256.hex(fileAt: URL(fileURLWithPath: "/dev/zero"))) == nil
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 20) == .success, "still hashing /dev/zero after 20 s")
        #expect(outcome.refused)
    }
}

/// A flag set on one thread and read on another after a semaphore.
final class OutcomeBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var refused: Bool {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
}
