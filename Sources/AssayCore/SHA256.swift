import Foundation

/// SHA-256 (FIPS 180-4), for content hashes of suites and model files.
public enum SHA256 {
    /// Lowercase hex digest of `data`.
    public static func hex(_ data: Data) -> String {
        var hasher = Hasher256()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Lowercase hex digest of the file at `url`, read in 4 MiB chunks.
    /// - Throws: when the file cannot be read.
    public static func hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = Hasher256()
        while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finalize()
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

    struct Hasher256 {
        private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
        private var buffer: [UInt8] = []
        private var length: UInt64 = 0

        private static let k: [UInt32] = [
            0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
            0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
            0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
            0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
            0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
            0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
            0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
            0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
        ]

        mutating func update(_ data: Data) {
            length += UInt64(data.count)
            var input = data[...]
            if !buffer.isEmpty {
                let take = min(64 - buffer.count, input.count)
                buffer.append(contentsOf: input.prefix(take))
                input = input.dropFirst(take)
                if buffer.count == 64 { compress(buffer, 0); buffer.removeAll(keepingCapacity: true) }
            }
            let whole = input.count / 64 * 64
            if whole > 0 {
                let block = [UInt8](input.prefix(whole))
                var offset = 0
                while offset < whole { compress(block, offset); offset += 64 }
            }
            buffer.append(contentsOf: input.dropFirst(whole))
        }

        mutating func finalize() -> String {
            var tail = buffer
            tail.append(0x80)
            while tail.count % 64 != 56 { tail.append(0) }
            let bits = length &* 8
            for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
            var offset = 0
            while offset < tail.count { compress(tail, offset); offset += 64 }
            return h.map { String(format: "%08x", $0) }.joined()
        }

        private var w = [UInt32](repeating: 0, count: 64)

        private mutating func compress(_ bytes: [UInt8], _ offset: Int) {
            for i in 0..<16 {
                let j = offset + 4 * i
                w[i] = UInt32(bytes[j]) << 24 | UInt32(bytes[j + 1]) << 16 | UInt32(bytes[j + 2]) << 8 | UInt32(bytes[j + 3])
            }
            for i in 16..<64 {
                let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
                let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
                w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
            for i in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let ch = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ ch &+ Self.k[i] &+ w[i]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let maj = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ maj
                (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            h[0] &+= a; h[1] &+= b; h[2] &+= c; h[3] &+= d; h[4] &+= e; h[5] &+= f; h[6] &+= g; h[7] &+= hh
        }

        @inline(__always) private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
    }
}
