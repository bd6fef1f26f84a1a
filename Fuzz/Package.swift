// swift-tools-version:6.0
import PackageDescription

/// The libFuzzer executable: `assay-fuzz TARGET …` feeds one ``FuzzTarget`` of the main package's
/// AssayFuzzHarness. Built only by scripts/fuzz, with `-sanitize=fuzzer,address`; the main package
/// never builds it.
let package = Package(
    name: "AssayFuzz",
    platforms: [.macOS(.v13)],
    products: [.executable(name: "assay-fuzz", targets: ["assay-fuzz"])],
    dependencies: [.package(name: "Assay", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .executableTarget(name: "assay-fuzz", dependencies: ["CLibFuzzer", .product(name: "AssayFuzzHarness", package: "Assay")]),
    ],
    swiftLanguageModes: [.v6]
)
