import Foundation

/// Text files read as UTF-8, and where one is not: the first byte that does not decode, by line
/// and byte column, so a user can find it in an editor (or with `sed -n 'LINEp'`).
public enum UTF8Text {
    /// The first byte sequence of a file that is not UTF-8.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        /// 0-based offset of the first byte that does not decode.
        public var offset: Int
        /// 1-based line and 1-based byte column of that byte.
        public var line: Int
        public var column: Int
        /// The byte itself.
        public var byte: UInt8

        public var description: String {
            "not valid UTF-8 at line \(line), byte \(column) (offset \(offset): 0x\(String(byte, radix: 16, uppercase: true)))"
        }
    }

    /// `data` as a string, or where it stops being UTF-8 (overlong forms, surrogates and code points
    /// past U+10FFFF included, as Swift's and Python's decoders refuse them).
    public static func decode(_ data: Data) -> Result<String, Invalid> {
        if let text = String(data: data, encoding: .utf8) { return .success(text) }
        return .failure(firstInvalid(in: data) ?? Invalid(offset: 0, line: 1, column: 1, byte: data.first ?? 0))
    }

    /// Where `data` first fails to decode as UTF-8; nil when it all does.
    public static func firstInvalid(in data: Data) -> Invalid? {
        var parser = Unicode.UTF8.ForwardParser()
        var bytes = data.makeIterator()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &bytes) {
            case let .valid(scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error:
                let before = data.prefix(offset)
                let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
                let lineStart = before.lastIndex(of: 0x0A).map { data.distance(from: data.startIndex, to: $0) + 1 } ?? 0
                return Invalid(offset: offset, line: line, column: offset - lineStart + 1, byte: data[data.index(data.startIndex, offsetBy: offset)])
            }
        }
    }
}
