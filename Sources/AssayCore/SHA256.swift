import COpenSSL
import Foundation

/// SHA-256 (FIPS 180-4), for content hashes of suites and model files: OpenSSL's libcrypto, which
/// uses the CPU's SHA extensions where it has them (about 1 GB/s here, where a portable Swift
/// implementation hashed 150 MB/s and a 7B model's signature cost 22 s).
public enum SHA256 {
    /// Lowercase hex digest of `data`.
    public static func hex(_ data: Data) -> String {
        let hasher = Hasher256()
        data.withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    /// Lowercase hex digest of the file at `url`, read in 4 MiB chunks — or remembered from an
    /// earlier read of the same file unchanged (``FileDigests``).
    /// - Throws: when the file cannot be read.
    public static func hex(fileAt url: URL) throws -> String {
        // A device could be read forever (/dev/zero); a pipe (`<(…)`) is read to its end.
        if FileKind(path: url.path) == .device {
            throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "\(url.path) is a device, not a file"])
        }
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        // The identity of the file this handle reads (not of whatever the path names later).
        let before = FileDigests.Identity(of: handle.fileDescriptor)
        if let before, let known = FileDigests.lookup(url, before) { return known }
        // Two seconds since the last change, measured before the read: a write in the tick the read
        // starts in could leave the same identity over bytes the read has passed.
        let settled = (before?.age ?? 0) >= 2
        let hasher = Hasher256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { chunk.withUnsafeBytes { hasher.update($0) } }
        let digest = hasher.finalize()
        // Remembered only if the file did not change while it was read.
        if let before, settled, FileDigests.Identity(of: handle.fileDescriptor) == before { FileDigests.store(url, before, digest: digest) }
        return digest
    }

    /// The content hash of a model: the file's digest, or for a Hugging Face directory the digest
    /// of the lines `<name> <sha256>` for `config.json` and every `*.safetensors` file, sorted by name.
    /// - Throws: when a file cannot be read.
    public static func hex(modelAt url: URL) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return try hex(fileAt: url)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: url.path)
            .filter { $0 == "config.json" || $0.hasSuffix(".safetensors") }.sorted()
        let lines = try names.map { "\($0) \(try hex(fileAt: url.appendingPathComponent($0)))\n" }.joined()
        return hex(Data(lines.utf8))
    }

    /// An EVP digest context for SHA-256 (one digest: `finalize` once).
    final class Hasher256 {
        private let context: OpaquePointer

        init() {
            // Allocation fails only when memory is exhausted; SHA-256 is always in libcrypto's default provider.
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto could not start a SHA-256 digest")
            }
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        func update(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress, bytes.count > 0 else { return }
            EVP_DigestUpdate(context, base, bytes.count)
        }

        func finalize() -> String {
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            EVP_DigestFinal_ex(context, &digest, &length)
            return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
        }
    }
}
