import AssayTestSupport
import Foundation
import Testing

/// `assay inspect` and `assay tokenize` end to end.
struct ModelCommandTests {
    @Test func inspectTinyGGUF() throws {
        let path = TestEnvironment.root.appendingPathComponent("Fixtures/gguf/tiny.gguf").path
        let result = try AssayProcess.run(["inspect", path, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["architecture"] as? String == "llama")
        #expect(object["parameters"] as? Int == 340)
        #expect(object["file_bytes"] as? Int == 1008)
        #expect((object["tensors"] as? [[String: Any]])?.map { $0["type"] as? String } == ["F32", "F16", "Q8_0", "Q4_K"])
        #expect((object["quantization_mix"] as? [String: Int])?["Q4_K"] == 256)
    }

    @Test func inspectRejectsAMalformedFile() throws {
        let path = TestEnvironment.root.appendingPathComponent("Fixtures/malformed/misaligned-tensor.gguf").path
        let result = try AssayProcess.run(["inspect", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("error: \(path): tensor 't' data offset 4 is not a multiple of the alignment 32"))
        #expect(result.stderr.contains("hint: "))
    }

    /// A process bound to one CPU (taskset, as Slurm or a cpuset binds a job) defaults to one
    /// thread; unbound, to every CPU it may use.
    @Test func defaultThreadsFollowTheAffinityMask() throws {
        let taskset = "/usr/bin/taskset"
        guard FileManager.default.isExecutableFile(atPath: taskset) else {
            try TestEnvironment.missing("no \(taskset) (util-linux) to bind a process to one CPU")
        }
        // The first CPU this test may run on (`Cpus_allowed_list: 0-1` or `2,5-7`).
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let allowed = status.split(separator: "\n").first { $0.hasPrefix("Cpus_allowed_list:") }
        let cpu = try #require(allowed.map { String($0.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces).prefix { $0.isNumber }) })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: taskset)
        process.arguments = ["-c", cpu, TestEnvironment.assayBinary.path, "bench", "--help"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The help text wrapped at any width: words only.
        func words(_ text: String) -> String { text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        let bound = words(String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(bound.contains("cgroup CPU limit). (default: 1)"), "\(bound)")
        let free = words(try AssayProcess.run(["bench", "--help"]).stdout)
        let count = free.range(of: "cgroup CPU limit). (default: ").flatMap { Int(free[$0.upperBound...].prefix { $0.isNumber }) }
        #expect(count.map { (1...ProcessInfo.processInfo.processorCount).contains($0) } == true, "\(free)")
    }

    @Test func tokenizeTextAndFile() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let text = try AssayProcess.run(["tokenize", model.path, "Hello, world!", "--format", "json"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("\"count\":4") && text.stdout.contains("[19556,28,905,17]"))
        let directory = try TestEnvironment.temporaryDirectory()
        try "Hello, world!\n".write(to: directory.appendingPathComponent("t.txt"), atomically: true, encoding: .utf8)
        let file = try AssayProcess.run(["tokenize", model.path, "--file", "t.txt", "--format", "json"], in: directory)
        #expect(file.stdout == text.stdout)  // one trailing newline dropped, as llama-perplexity -f
        let usage = try AssayProcess.run(["tokenize", model.path])
        #expect(usage.status == 64)
    }
}
