/// The `none` tokenizer: the segment as it is (tokens are its whitespace-separated fields).
public struct TokenizerNone: MTTokenizer {
    public static let name = "none"

    public init() {}

    public func tokenize(_ line: String) -> [UInt8] { Array(line.utf8) }
}
