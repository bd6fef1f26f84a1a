// swift-tools-version:6.0
import PackageDescription

/// Module map (docs/architecture.md; ../shared/DESIGN.md §2). Every edge runs one way, upward:
///
///   COpenSSL (libcrypto, for SHA-256) → AssayCore
///   COpenBLAS, CAssayKernels → AssayTensor → AssayCheckpoint ─┐
///   AssayTokenizer ─────────────────────────────┴→ AssayModels (engine, backends; no metrics, no stats)
///   AssayStats → AssayMetrics (metric math over numbers and strings)
///   AssayModels + AssayMetrics → AssayProcedures (what runs models to produce metrics)
///   → AssayEvaluators → AssaySuite → AssayReport (every renderer) / AssayStore → AssayCLI → assay ← CAssayStartup
///   AssaySuite, AssayEvaluators and below → AssayFuzzHarness (Fuzz/Harness; for scripts/fuzz and its tests only)
///
/// scripts/check-imports.sh fails when a source imports a module its target does not declare or
/// that sits above it in this map.
let package = Package(
    name: "Assay",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "assay", targets: ["assay"]),
        .library(name: "AssayCLI", targets: ["AssayCLI"]),
        // What the libFuzzer executable of Fuzz/Package.swift calls (scripts/fuzz).
        .library(name: "AssayFuzzHarness", targets: ["AssayFuzzHarness"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // HTML reports: Mustache templates, every {{value}} HTML-escaped (& < > " ') by construction.
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // Served models: HTTP/1.1 over http:// and https:// on SwiftNIO (event loops asleep in epoll).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(name: "COpenSSL"),
        .target(name: "AssayCore", dependencies: ["COpenSSL"]),
        .systemLibrary(name: "COpenBLAS"),
        // Quantized matrix-vector kernels in C with AVX2 intrinsics chosen at run time; no
        // contraction, so dequantized values equal the Swift Dequantizer's bit for bit.
        .target(name: "CAssayKernels", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "AssayTensor", dependencies: ["COpenBLAS", "CAssayKernels"],
                // Dequantization and kernels run on real models in the tests: optimise them in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayCheckpoint", dependencies: ["AssayCore", "AssayTensor"]),
        .target(name: "AssayTokenizer", dependencies: ["AssayCore"]),
        .target(name: "AssayModels", dependencies: ["AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer",
                                                   .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                   .product(name: "NIOCore", package: "swift-nio"),
                                                   .product(name: "NIOHTTP1", package: "swift-nio"),
                                                   .product(name: "NIOPosix", package: "swift-nio"),
                                                   .product(name: "NIOSSL", package: "swift-nio-ssl")],
                // The tests run real models through the forward pass: optimise it in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayStats", dependencies: ["AssayCore"]),
        .target(name: "AssayMetrics", dependencies: ["AssayCore", "AssayStats", .product(name: "Histogram", package: "hdrhistogram-swift")],
                // BERTScore matching runs over real embeddings in the tests: optimise it in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayProcedures", dependencies: [
            "AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayMetrics",
        ],
                // Drift's per-position statistics and BERTScore's pipeline run on real models in the tests.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayEvaluators", dependencies: [
            "AssayCore", "AssayTensor", "AssayCheckpoint", "AssayModels", "AssayStats", "AssayMetrics", "AssayProcedures",
        ]),
        .target(name: "AssaySuite", dependencies: [
            "AssayCore", "AssayStats", "AssayMetrics", "AssayEvaluators",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "AssayReport", dependencies: ["AssayCore", "AssayStats", "AssayMetrics", "AssayProcedures", "AssayEvaluators", "AssaySuite",
                                                   .product(name: "Mustache", package: "swift-mustache")]),
        .target(name: "AssayStore", dependencies: [
            "AssayCore", "AssayMetrics", "AssayEvaluators", "AssaySuite",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "AssayCLI", dependencies: [
            "AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayMetrics",
            "AssayProcedures", "AssayEvaluators", "AssaySuite", "AssayReport", "AssayStore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What the executable sets while it loads (one malloc arena), never a library host's.
        .target(name: "CAssayStartup"),
        .executableTarget(name: "assay", dependencies: ["AssayCLI", "CAssayStartup"]),
        // One input through the entry points a user's file takes, for the fuzzers and the regression tests.
        .target(name: "AssayFuzzHarness", dependencies: [
            "AssayCore", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayEvaluators", "AssaySuite",
        ], path: "Fuzz/Harness"),
        .target(name: "AssayTestSupport", path: "Tests/AssayTestSupport"),
        .testTarget(name: "AssayCoreTests", dependencies: ["AssayCore", "AssayTestSupport"]),
        .testTarget(name: "AssayTensorTests", dependencies: ["AssayCore", "AssayTensor"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayCheckpointTests", dependencies: ["AssayCore", "AssayCheckpoint", "AssayTensor", "AssayTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "AssayTokenizerTests", dependencies: ["AssayCore", "AssayTokenizer", "AssayModels", "AssayTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "AssayModelsTests", dependencies: ["AssayCore", "AssayModels", "AssayCheckpoint", "AssayTokenizer", "AssayTensor", "AssayTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "AssayStatsTests", dependencies: ["AssayCore", "AssayStats", "AssayMetrics", "AssayTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayMetricsTests", dependencies: ["AssayCore", "AssayMetrics", "AssayTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayProceduresTests", dependencies: [
            "AssayCore", "AssayProcedures", "AssayModels", "AssayCheckpoint", "AssayTokenizer", "AssayTensor", "AssayMetrics", "AssayStats", "AssayTestSupport",
        ], resources: [.copy("Golden")]),
        .testTarget(name: "AssayEvaluatorsTests", dependencies: ["AssayCore", "AssayEvaluators", "AssayStats", "AssayMetrics", "AssayTestSupport"]),
        .testTarget(name: "AssaySuiteTests", dependencies: ["AssayCore", "AssaySuite", "AssayEvaluators", "AssayTestSupport"]),
        .testTarget(name: "AssayReportTests", dependencies: ["AssayCore", "AssayReport", "AssaySuite", "AssayEvaluators", "AssayTestSupport"]),
        .testTarget(name: "AssayStoreTests", dependencies: ["AssayCore", "AssayStore", "AssaySuite", "AssayEvaluators", "AssayTestSupport",
                                                     .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "AssayFuzzTests", dependencies: ["AssayFuzzHarness"]),
        .testTarget(name: "AssayCLITests", dependencies: ["AssayTestSupport", "AssayStore", "AssayCheckpoint", .product(name: "Yams", package: "Yams"),
                                                   .product(name: "GRDB", package: "GRDB.swift")]),
    ],
    swiftLanguageModes: [.v6]
)
