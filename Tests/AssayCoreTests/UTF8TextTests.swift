@testable import AssayCore
import Foundation
import Testing

/// Where a file stops being UTF-8: line, byte column and offset of the first byte that does not
/// decode, for every kind of invalid sequence Swift's and Python's decoders refuse.
struct UTF8TextTests {
    @Test func validTextDecodes() throws {
        #expect(try UTF8Text.decode(Data("héllo\n世界 🙂\n".utf8)).get() == "héllo\n世界 🙂\n")
        #expect(UTF8Text.firstInvalid(in: Data("héllo".utf8)) == nil)
        #expect(UTF8Text.firstInvalid(in: Data()) == nil)
    }

    @Test func theFirstInvalidByteIsNamedByLineAndColumn() {
        let prefix = Data("first\nsecond\né and ".utf8)  // line 3 starts at offset 13; "é" is two bytes
        let cases: [(bytes: [UInt8], what: String)] = [
            ([0xE9, 0x74, 0xE9], "Latin-1 é"),
            ([0xC0, 0x80], "overlong NUL"),
            ([0xED, 0xA0, 0x80], "UTF-16 surrogate"),
            ([0xF4, 0x90, 0x80, 0x80], "past U+10FFFF"),
            ([0x80], "lone continuation byte"),
            ([0xE2, 0x82], "sequence cut at the end"),
        ]
        for (bytes, what) in cases {
            let data = prefix + Data(bytes)
            let invalid = UTF8Text.firstInvalid(in: data)
            #expect(invalid == UTF8Text.Invalid(offset: prefix.count, line: 3, column: prefix.count - 13 + 1, byte: bytes[0]), "\(what): \(String(describing: invalid))")
            guard case let .failure(failure) = UTF8Text.decode(data) else {
                Issue.record("\(what) decoded")
                continue
            }
            #expect(failure.description.hasPrefix("not valid UTF-8 at line 3, byte 8 (offset 20: 0x"), "\(failure)")
        }
    }
}
