import Foundation

/// Debian's `chromium`, headless, for the tests that check what a person looks at: the DOM after
/// the page's scripts ran, what the console printed, screenshots. Installed by
/// scripts/install-system-packages.sh; missing, a test is skipped with the reason, or fails in CI.
public enum Chromium {
    /// A page as the browser left it.
    public struct Page {
        /// `--dump-dom`: the DOM after the scripts ran.
        public var dom: String
        /// The console messages chromium logged (`CONSOLE` lines of its stderr).
        public var console: [String]
        /// Console messages that are errors: uncaught exceptions and `console.error`.
        public var errors: [String] { console.filter { $0.contains("Uncaught") || $0.contains("ERROR:CONSOLE") } }
    }

    /// `$ASSAY_CHROMIUM` or /usr/bin/chromium.
    public static func binary() throws -> URL {
        let path = ProcessInfo.processInfo.environment["ASSAY_CHROMIUM"] ?? "/usr/bin/chromium"
        guard FileManager.default.isExecutableFile(atPath: path) else {
            try TestEnvironment.missing("no chromium at \(path) (scripts/install-system-packages.sh installs Debian's)")
        }
        return URL(fileURLWithPath: path)
    }

    /// Loads `file` (with `#fragment`, if any) headless and returns the DOM after its scripts ran.
    public static func dumpDOM(_ file: URL, fragment: String? = nil, timeout: TimeInterval = 120) throws -> Page {
        let address = file.absoluteString + (fragment.map { "#" + $0 } ?? "")
        let (out, err) = try run(["--enable-logging=stderr", "--v=0", "--dump-dom", address], timeout: timeout)
        return Page(dom: out, console: err.split(separator: "\n").map(String.init).filter { $0.contains("CONSOLE") })
    }

    /// Writes a PNG of `file` at `width` × `height` CSS pixels.
    public static func screenshot(_ file: URL, fragment: String? = nil, to png: URL, width: Int = 1280, height: Int = 900) throws {
        let address = file.absoluteString + (fragment.map { "#" + $0 } ?? "")
        _ = try run(["--hide-scrollbars", "--window-size=\(width),\(height)", "--screenshot=\(png.path)", address], timeout: 120)
    }

    /// Runs chromium headless with a throw-away profile; output through files (no pipe to fill).
    static func run(_ arguments: [String], timeout: TimeInterval) throws -> (String, String) {
        let directory = try TestEnvironment.temporaryDirectory("assay-chromium")
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out"), errURL = directory.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = try binary()
        // --no-sandbox: the tests may run as root, where chromium's sandbox refuses to start.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                             "--user-data-dir=\(directory.appendingPathComponent("profile").path)"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ChromiumError(message: "chromium did not finish within \(Int(timeout)) s: \(arguments.joined(separator: " "))")
        }
        let out = try String(contentsOf: outURL, encoding: .utf8), err = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw ChromiumError(message: "chromium exited with \(process.terminationStatus): \(err.suffix(2000))")
        }
        return (out, err)
    }
}

/// Chromium failed to load or render a page.
public struct ChromiumError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
