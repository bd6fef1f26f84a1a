import AssayFuzzHarness
import CLibFuzzer
import Foundation

// scripts/fuzz events SECONDS: libFuzzer feeds one input at a time to FuzzTarget.events.
let target = FuzzTarget.events

/// The input callback (also the symbol libFuzzer's own `main`, unused here, refers to).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    target.run(bytes.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

// `--seeds` lists where the seed inputs are (scripts/fuzz copies them); anything else is libFuzzer's.
if CommandLine.arguments.dropFirst().first == "--seeds" {
    print(target.seeds.joined(separator: "\n"))
    exit(0)
}
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, testOneInput))
