import Foundation

/// Paths and helpers shared by Assay's tests.
public enum TestEnvironment {
    /// The package root.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The report JSON Schema.
    public static var reportSchema: URL { root.appendingPathComponent("docs/report.schema.json") }

    /// A fresh temporary directory.
    public static func temporaryDirectory(_ prefix: String = "assay-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// The built `assay` executable next to the test bundle (`$ASSAY_BIN` overrides).
    public static var assayBinary: URL {
        if let path = ProcessInfo.processInfo.environment["ASSAY_BIN"] { return URL(fileURLWithPath: path) }
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("assay")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/assay")
    }
}

/// Runs the `assay` executable and captures its output.
public struct AssayProcess {
    /// Exit status.
    public var status: Int32
    /// Standard output.
    public var stdout: String
    /// Standard error.
    public var stderr: String

    /// Runs `assay` with `arguments` in `directory` and waits for it.
    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> AssayProcess {
        let process = try start(arguments, in: directory, environment: environment)
        let out = process.outPipe.fileHandleForReading.readDataToEndOfFile()
        let err = process.errPipe.fileHandleForReading.readDataToEndOfFile()
        process.process.waitUntilExit()
        return AssayProcess(status: process.process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                            stderr: String(decoding: err, as: UTF8.self))
    }

    /// A started process with its pipes.
    public struct Running {
        public var process: Process
        public var outPipe: Pipe
        public var errPipe: Pipe
    }

    /// Starts `assay` without waiting.
    public static func start(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:]) throws -> Running {
        let process = Process()
        process.executableURL = TestEnvironment.assayBinary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "GITHUB_STEP_SUMMARY")
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return Running(process: process, outPipe: out, errPipe: err)
    }
}
