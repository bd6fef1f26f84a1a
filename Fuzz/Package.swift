// swift-tools-version:6.0
import PackageDescription

/// libFuzzer executables, one per ``FuzzTarget`` of the main package's AssayFuzzHarness. Built only
/// by scripts/fuzz, with `-sanitize=fuzzer,address`; the main package never builds them.
let targets = ["gguf", "safetensors", "config-json", "tokenizer", "suite", "ratings", "events"]

let package = Package(
    name: "AssayFuzz",
    platforms: [.macOS(.v13)],
    products: targets.map { .executable(name: "fuzz-\($0)", targets: ["fuzz-\($0)"]) },
    dependencies: [.package(name: "Assay", path: "..")],
    targets: [.target(name: "CLibFuzzer")] + targets.map {
        .executableTarget(name: "fuzz-\($0)", dependencies: ["CLibFuzzer", .product(name: "AssayFuzzHarness", package: "Assay")])
    },
    swiftLanguageModes: [.v6]
)
