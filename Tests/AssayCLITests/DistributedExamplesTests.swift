import AssayTestSupport
import Foundation
import Testing
import Yams

/// The files in examples/distributed parse, and the assay commands in them — the Kubernetes
/// Indexed Job and its merge Job, the Slurm array and its `afterok` merge, the GitHub Actions
/// matrix and its merge job — run as the scheduler would run them (its index variables set, its
/// file moves done) against a real server: llama-cpp-python serving SmolLM2 with BOS added, so
/// the example suite's perplexity is scored from the server's prompt log-probabilities. Each
/// merge passes and equals the unsharded run of the same suite (to 1e-6).
struct DistributedExamplesTests {
    static let examples = TestEnvironment.root.appendingPathComponent("examples/distributed")

    /// Runs `script` with /bin/sh in `directory`, `assay` on the PATH.
    static func shell(_ script: String, in directory: URL, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        for key in env.keys where key.hasPrefix("SLURM_") || key == "JOB_COMPLETION_INDEX" || key == "ASSAY_SHARD" { env[key] = nil }
        env.merge(environment) { $1 }
        env["PATH"] = TestEnvironment.assayBinary.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// The metrics of every evaluation in a run's JSON report, by evaluation id.
    static func metrics(ofReportIn directory: URL) throws -> [String: [String: Double]] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" && !$0.lastPathComponent.hasPrefix("shard-") }
        #expect(files.count == 1, "\(files.map(\.lastPathComponent))")
        let file = try #require(files.first)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var result: [String: [String: Double]] = [:]
        for evaluation in report["evaluations"] as? [[String: Any]] ?? [] {
            var values: [String: Double] = [:]
            for metric in evaluation["metrics"] as? [[String: Any]] ?? [] {
                if let name = metric["name"] as? String, let value = metric["value"] as? Double { values[name] = value }
            }
            result[evaluation["id"] as? String ?? "?"] = values
        }
        return result
    }

    /// A working directory with the repository's examples and fixtures, as the jobs' checkouts have.
    static func workspace() throws -> URL {
        let directory = try TestEnvironment.temporaryDirectory("assay-distributed")
        for name in ["examples", "Fixtures"] {
            try FileManager.default.createSymbolicLink(at: directory.appendingPathComponent(name),
                                                       withDestinationURL: TestEnvironment.root.appendingPathComponent(name))
        }
        return directory
    }

    @Test func theExampleJobsRunAgainstARealServerAndMergeToTheUnshardedRun() throws {
        let model = try TestEnvironment.model("smollm2-135m-instruct/SmolLM2-135M-Instruct.Q4_1.gguf")
        let server = try ChildServer.start(python: try TestEnvironment.serverPython(), arguments: [
            "-m", "llama_cpp.server", "--model", model.path, "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", "{port}",
            "--n_threads", "1", "--n_threads_batch", "1", "--kv_overrides", "tokenizer.ggml.add_bos_token=bool:true",
        ])
        defer { withExtendedLifetime(server) {} }
        let served = ["ASSAY_ENDPOINT": server.endpoint.absoluteString, "ASSAY_SERVED_MODEL": "smollm2"]

        let whole = try Self.workspace()
        let run = try Self.shell("assay run examples/distributed/served-suite.yaml --out reports --store reports/assay.db --format text",
                                 in: whole, environment: served)
        #expect(run.status == 0, "\(run.output)")
        let expected = try Self.metrics(ofReportIn: whole.appendingPathComponent("reports/served-release"))
        #expect(expected["ppl"]?["perplexity"] != nil && expected["rewrite"]?["chrf"] != nil, "\(expected)")

        // Kubernetes: the Indexed Job's container command once per index, then the merge Job's.
        let kubernetes = try Self.workspace()
        let shardsJob = try #require(try Yams.load(yaml: String(contentsOf: Self.examples.appendingPathComponent("kubernetes-shards.yaml"), encoding: .utf8)) as? [String: Any])
        let shardSpec = try #require(shardsJob["spec"] as? [String: Any])
        #expect(shardSpec["completionMode"] as? String == "Indexed")
        let completions = try #require(shardSpec["completions"] as? Int)
        let shardCommand = try #require(Self.container(of: shardsJob)["command"] as? [String])
        try FileManager.default.createDirectory(at: kubernetes.appendingPathComponent("reports"), withIntermediateDirectories: true)
        for index in 0..<completions {
            let script = shardCommand.map(Self.quoted).joined(separator: " ").replacingOccurrences(of: "/reports", with: "reports")
            let shard = try Self.shell(script, in: kubernetes, environment: served.merging(["JOB_COMPLETION_INDEX": String(index)]) { $1 })
            #expect(shard.status == 0, "index \(index): \(shard.output)")
        }
        let mergeJob = try #require(try Yams.load(yaml: String(contentsOf: Self.examples.appendingPathComponent("kubernetes-merge.yaml"), encoding: .utf8)) as? [String: Any])
        let mergeCommand = try #require(Self.container(of: mergeJob)["command"] as? [String])
        #expect(mergeCommand.prefix(2) == ["sh", "-c"])
        let merged = try Self.shell(mergeCommand[2].replacingOccurrences(of: "/reports", with: "reports"), in: kubernetes, environment: [:])
        #expect(merged.status == 0, "\(merged.output)")
        #expect(Self.close(try Self.metrics(ofReportIn: kubernetes.appendingPathComponent("reports/served-release")), expected))
        #expect(FileManager.default.fileExists(atPath: kubernetes.appendingPathComponent("reports/junit.xml").path))

        // Slurm: the array script's assay line once per task id of `--array`, then the --wrap of the merge.
        let slurm = try Self.workspace()
        let sbatch = try String(contentsOf: Self.examples.appendingPathComponent("slurm-shards.sbatch"), encoding: .utf8)
        let array = try #require(sbatch.split(separator: "\n").first { $0.hasPrefix("#SBATCH --array=") }).dropFirst("#SBATCH --array=".count)
        let bounds = array.split(separator: "-").compactMap { Int($0) }
        #expect(bounds.count == 2)
        let assayLines = sbatch.split(separator: "\n").filter { $0.hasPrefix("assay ") }
        #expect(assayLines.count == 1)
        try FileManager.default.createDirectory(at: slurm.appendingPathComponent("reports"), withIntermediateDirectories: true)
        for id in bounds[0]...bounds[1] {
            let task = try Self.shell(String(assayLines[0]), in: slurm, environment: served.merging([
                "SLURM_ARRAY_TASK_ID": String(id), "SLURM_ARRAY_TASK_MIN": String(bounds[0]),
                "SLURM_ARRAY_TASK_MAX": String(bounds[1]), "SLURM_ARRAY_TASK_COUNT": String(bounds[1] - bounds[0] + 1),
            ]) { $1 })
            #expect(task.status == 0, "task \(id): \(task.output)")
        }
        let submit = try String(contentsOf: Self.examples.appendingPathComponent("slurm-submit.sh"), encoding: .utf8)
        #expect(submit.contains("--dependency=afterok:"))
        let wrap = try #require(submit.range(of: #"--wrap "([^"]*)""#, options: .regularExpression)).lowerBound
        let wrapped = submit[wrap...].dropFirst("--wrap \"".count).prefix { $0 != "\"" }
        let slurmMerge = try Self.shell(String(wrapped), in: slurm, environment: [:])
        #expect(slurmMerge.status == 0, "\(slurmMerge.output)")
        #expect(Self.close(try Self.metrics(ofReportIn: slurm.appendingPathComponent("reports/served-release")), expected))

        // GitHub Actions: each matrix job's `run` with its matrix value, the artifacts moved as
        // upload/download-artifact move them, then the merge job's `run`.
        let actions = try Self.workspace()
        let workflow = try #require(try Yams.load(yaml: String(contentsOf: Self.examples.appendingPathComponent("github-actions.yml"), encoding: .utf8)) as? [String: Any])
        let jobs = try #require(workflow["jobs"] as? [String: Any])
        let shardJob = try #require(jobs["shard"] as? [String: Any]), mergeJobSpec = try #require(jobs["merge"] as? [String: Any])
        let matrix = try #require(((shardJob["strategy"] as? [String: Any])?["matrix"] as? [String: Any])?["shard"] as? [Int])
        let shardRun = try #require(Self.runs(of: shardJob).first { $0.hasPrefix("assay run") })
        let mergeRun = try #require(Self.runs(of: mergeJobSpec).first { $0.hasPrefix("assay merge") })
        try FileManager.default.createDirectory(at: actions.appendingPathComponent("shards"), withIntermediateDirectories: true)
        for value in matrix {
            let job = try Self.shell(shardRun.replacingOccurrences(of: "${{ matrix.shard }}", with: String(value)), in: actions, environment: served)
            #expect(job.status == 0, "matrix \(value): \(job.output)")
            let name = "shard-\(value)-of-\(matrix.count).json"
            try FileManager.default.copyItem(at: actions.appendingPathComponent("reports/served-release/\(name)"),
                                             to: actions.appendingPathComponent("shards/\(name)"))
        }
        try FileManager.default.removeItem(at: actions.appendingPathComponent("reports"))  // a fresh runner
        let actionsMerge = try Self.shell(mergeRun, in: actions, environment: [:])
        #expect(actionsMerge.status == 0, "\(actionsMerge.output)")
        #expect(Self.close(try Self.metrics(ofReportIn: actions.appendingPathComponent("reports/served-release")), expected))
    }

    /// The same metrics, to 1e-6 relative: the server reuses the KV cache of the prefix it shares
    /// with the previous request, and the shards send requests in another order than one run does
    /// (exactness of the merge itself is `ShardingTests`' business, with the in-process engine).
    static func close(_ a: [String: [String: Double]], _ b: [String: [String: Double]]) -> Bool {
        a.keys.sorted() == b.keys.sorted() && a.allSatisfy { id, metrics in
            guard let other = b[id], metrics.keys.sorted() == other.keys.sorted() else { return false }
            return metrics.allSatisfy { name, value in abs(value - other[name]!) <= 1e-6 * max(1, abs(value)) }
        }
    }

    static func container(of job: [String: Any]) -> [String: Any] {
        let template = (job["spec"] as? [String: Any])?["template"] as? [String: Any]
        return ((template?["spec"] as? [String: Any])?["containers"] as? [[String: Any]])?.first ?? [:]
    }

    static func runs(of job: [String: Any]) -> [String] {
        (job["steps"] as? [[String: Any]] ?? []).compactMap { $0["run"] as? String }
    }

    static func quoted(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:".contains($0) } ? word : "'" + word.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
