import Foundation
import Testing

/// Paths and helpers shared by Assay's tests.
public enum TestEnvironment {
    /// The package root.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The report JSON Schema.
    public static var reportSchema: URL { root.appendingPathComponent("docs/report.schema.json") }

    /// A fresh temporary directory, inside one directory per test process that is removed when
    /// the process exits (the tests made thousands a run, and a developer's /tmp filled up).
    public static func temporaryDirectory(_ prefix: String = "assay-test") throws -> URL {
        let url = temporaryRoot.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `assay-tests-<pid>-<uuid>` in the system's temporary directory (a name no one can guess
    /// ahead), removed at exit; a crashed process leaves it for the next clean-up of /tmp.
    private static let temporaryRoot: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("assay-tests-\(getpid())-\(UUID().uuidString)")
        atexit { try? FileManager.default.removeItem(at: TestEnvironment.temporaryRoot) }
        return url
    }()

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
        // stderr drains on another thread while stdout is read here: read one after the other, a
        // child that fills the stderr pipe (64 KB) before closing stdout would block us both.
        let errHandle = UncheckedHandle(handle: process.errPipe.fileHandleForReading)
        let errBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.set(errHandle.handle.readDataToEndOfFile()) }
        let out = process.outPipe.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let err = errBox.get()
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

    /// Reads the running process's stderr until it contains `text` (true), the stream ends or
    /// `timeout` passes (false): waits for an event instead of sleeping.
    public static func waitForStderr(_ running: Running, containing text: String, timeout: TimeInterval = 120) -> Bool {
        let handle = running.errPipe.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var seen = Data()
        while Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { return false }
            seen.append(chunk)
            if String(decoding: seen, as: UTF8.self).contains(text) {
                // Keep reading in the background so that later progress cannot fill the pipe and block the process.
                let drain = UncheckedHandle(handle: handle)
                DispatchQueue.global().async { _ = drain.handle.readDataToEndOfFile() }
                return true
            }
        }
        return false
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

extension TestEnvironment {
    /// Whether this is CI (`CI=true`), where nothing may be skipped.
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// `$ASSAY_DATA` (default `../shared/data` beside the package) joined with `subpath`.
    /// - Throws: when it does not exist: the test is skipped with the reason (`Test.cancel`, shown
    ///   as skipped, never as passed) — or, in CI (`CI=true`), fails: CI must not skip the
    ///   real-data tests.
    public static func sharedData(_ subpath: String) throws -> URL {
        try existing(dataRoot.appendingPathComponent(subpath), what: "evaluation data", fix: "set ASSAY_DATA")
    }

    /// Whether `sharedData(subpath)` exists (for tests that branch without skipping).
    public static func hasSharedData(_ subpath: String) -> Bool {
        FileManager.default.fileExists(atPath: dataRoot.appendingPathComponent(subpath).path)
    }

    static var dataRoot: URL {
        ProcessInfo.processInfo.environment["ASSAY_DATA"].map { URL(fileURLWithPath: $0) } ?? root.appendingPathComponent("../shared/data").standardizedFileURL
    }

    /// A file or directory of the test models in `$ASSAY_MODELS` (default `~/.cache/assay/models`),
    /// with the same skip/CI rule as ``sharedData(_:)``.
    public static func model(_ subpath: String) throws -> URL {
        let environment = ProcessInfo.processInfo.environment
        let models = environment["ASSAY_MODELS"] ?? (environment["HOME"] ?? "") + "/.cache/assay/models"
        return try existing(URL(fileURLWithPath: models).appendingPathComponent(subpath), what: "model", fix: "run scripts/fetch-models.sh")
    }

    /// The real OpenAI-compatible server scripts/test.sh starts (`$ASSAY_TEST_ENDPOINT`, served
    /// name `$ASSAY_TEST_SERVED_MODEL`), with the same skip/CI rule as ``sharedData(_:)``.
    public static func testServer() throws -> (endpoint: URL, model: String) {
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["ASSAY_TEST_ENDPOINT"], let url = URL(string: text) {
            return (url, environment["ASSAY_TEST_SERVED_MODEL"] ?? "smollm2")
        }
        try missing("no test server (ASSAY_TEST_ENDPOINT is not set; scripts/test.sh starts one)")
    }

    /// The real vLLM server (its CPU build) scripts/test.sh starts (`$ASSAY_TEST_VLLM_ENDPOINT`),
    /// serving `derived/smollm2-135m-instruct-hf` as `smollm2` in f32, with the same skip/CI rule.
    public static func vllmServer() throws -> (endpoint: URL, model: String, weights: URL) {
        let weights = try model("derived/smollm2-135m-instruct-hf")
        if let text = ProcessInfo.processInfo.environment["ASSAY_TEST_VLLM_ENDPOINT"], let url = URL(string: text) {
            return (url, "smollm2", weights)
        }
        try missing("no vLLM server (ASSAY_TEST_VLLM_ENDPOINT is not set; scripts/test.sh starts one, installed by scripts/setup-vllm.sh)")
    }

    static func existing(_ url: URL, what: String, fix: String) throws -> URL {
        if FileManager.default.fileExists(atPath: url.path) { return url }
        try missing("\(what) not found at \(url.path) (\(fix))")
    }

    /// Skips the running test with `reason`, or fails it in CI.
    public static func missing(_ reason: String) throws -> Never {
        if isCI {
            Issue.record("\(reason); CI must not skip it")
            throw MissingRequirement(reason: reason)
        }
        try Test.cancel("skipped: \(reason)")
    }
}

/// A test requirement that is absent in CI.
public struct MissingRequirement: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// A file handle handed to a background reader (FileHandle is not Sendable; one reader owns it).
struct UncheckedHandle: @unchecked Sendable {
    let handle: FileHandle
}

/// Data handed back from a reader thread.
final class DataBox: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func set(_ value: Data) { lock.lock(); data = value; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
