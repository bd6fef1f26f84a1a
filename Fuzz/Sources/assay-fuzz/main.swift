import AssayFuzzHarness
import CLibFuzzer
import Foundation

// scripts/fuzz TARGET SECONDS runs `assay-fuzz TARGET [libFuzzer flags and corpus directories]`:
// libFuzzer feeds one input at a time to that FuzzTarget. `assay-fuzz TARGET --seeds` lists where
// the target's seed inputs are (scripts/fuzz copies them).
var arguments = CommandLine.arguments
guard arguments.count >= 2, let chosen = FuzzTarget(rawValue: arguments[1]) else {
    FileHandle.standardError.write(Data("usage: assay-fuzz TARGET [libFuzzer arguments]; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
    exit(2)
}
if arguments.dropFirst(2).first == "--seeds" {
    print(chosen.seeds.joined(separator: "\n"))
    exit(0)
}
/// The target of this process, set once before libFuzzer starts calling back.
nonisolated(unsafe) var target = chosen

/// The input callback (also the symbol libFuzzer's own `main`, unused here, refers to).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

// libFuzzer sees the program name and its own arguments, not the target's name.
arguments.remove(at: 1)
var argc = CInt(arguments.count)
var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
exit(cArguments.withUnsafeMutableBufferPointer { buffer in
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = buffer.baseAddress
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
})
