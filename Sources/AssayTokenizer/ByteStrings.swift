/// String operations on UTF-8 bytes. Tokenizers must compare text byte for byte, as llama.cpp and
/// Hugging Face do; Swift's `String`/`Character` APIs compare graphemes and canonical equivalents
/// ("#" + U+093F is one Character, "e" + U+0301 equals "é").
enum ByteStrings {
    /// `text` with every occurrence of `from` replaced by `to`, left to right, matched on bytes.
    static func replace(_ text: String, _ from: String, _ to: String) -> String {
        let source = Array(text.utf8), pattern = Array(from.utf8), replacement = Array(to.utf8)
        guard !pattern.isEmpty, source.count >= pattern.count else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(source.count)
        var i = 0
        while i < source.count {
            if i + pattern.count <= source.count, source[i..<(i + pattern.count)].elementsEqual(pattern) {
                out += replacement
                i += pattern.count
            } else {
                out.append(source[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` starts with the byte `byte`.
    static func startsWith(_ text: String, byte: UInt8) -> Bool { text.utf8.first == byte }
}
