// swift-tools-version:6.0
import PackageDescription

/// Module map: ../shared/DESIGN.md §2. Dependencies run one way, top to bottom:
/// AssayStats → AssayMetrics → AssayEvaluators → AssaySuite → AssayReport / AssayStore → AssayCLI → assay;
/// COpenBLAS → AssayTensor (→ AssayCheckpoint → AssayModels, in later issues).
let package = Package(
    name: "Assay",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "assay", targets: ["assay"]),
        .library(name: "AssayCLI", targets: ["AssayCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        .systemLibrary(name: "COpenBLAS"),
        .target(name: "AssayTensor", dependencies: ["COpenBLAS"],
                // Dequantization and kernels run on real models in the tests: optimise them in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayCheckpoint", dependencies: ["AssayTensor"]),
        .target(name: "AssayTokenizer"),
        .target(name: "AssayModels", dependencies: ["AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayMetrics", "AssayStats"],
                // The tests run real models through the forward pass: optimise it in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayStats"),
        .target(name: "AssayMetrics", dependencies: ["AssayStats", .product(name: "Histogram", package: "hdrhistogram-swift")],
                // BERTScore matching runs over real embeddings in the tests: optimise it in debug builds too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssayEvaluators", dependencies: ["AssayMetrics", "AssayStats", "AssayModels", "AssayCheckpoint"],
                // Hashing multi-gigabyte models must be fast in debug builds (tests) too.
                swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "AssaySuite", dependencies: [
            "AssayEvaluators", "AssayMetrics",
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "AssayReport", dependencies: ["AssaySuite", "AssayEvaluators", "AssayMetrics"]),
        .target(name: "AssayStore", dependencies: [
            "AssaySuite", "AssayEvaluators", "AssayMetrics",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .target(name: "AssayCLI", dependencies: [
            "AssayStats", "AssayMetrics", "AssayEvaluators", "AssaySuite", "AssayReport", "AssayStore",
            "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "assay", dependencies: ["AssayCLI"]),
        .target(name: "AssayTestSupport", path: "Tests/AssayTestSupport"),
        .testTarget(name: "AssayModelsTests", dependencies: ["AssayModels", "AssayCheckpoint", "AssayTokenizer", "AssayMetrics", "AssayTensor", "AssayTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "AssayTokenizerTests", dependencies: ["AssayTokenizer", "AssayModels", "AssayEvaluators", "AssayTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayTensorTests", dependencies: ["AssayTensor"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayCheckpointTests", dependencies: ["AssayCheckpoint", "AssayTensor", "AssayEvaluators", "AssayTestSupport"],
                    resources: [.copy("Golden")]),
        .testTarget(name: "AssayStatsTests", dependencies: ["AssayStats", "AssayMetrics", "AssayTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayMetricsTests", dependencies: ["AssayMetrics", "AssayTestSupport"], resources: [.copy("Golden")]),
        .testTarget(name: "AssayEvaluatorsTests", dependencies: ["AssayEvaluators", "AssayStats", "AssayMetrics", "AssayTestSupport"]),
        .testTarget(name: "AssaySuiteTests", dependencies: ["AssaySuite", "AssayEvaluators", "AssayTestSupport"]),
        .testTarget(name: "AssayReportTests", dependencies: ["AssayReport", "AssaySuite", "AssayEvaluators", "AssayTestSupport"]),
        .testTarget(name: "AssayStoreTests", dependencies: ["AssayStore", "AssaySuite", "AssayEvaluators", "AssayTestSupport"]),
        .testTarget(name: "AssayCLITests", dependencies: ["AssayTestSupport", "AssayStore"]),
    ],
    swiftLanguageModes: [.v6]
)
