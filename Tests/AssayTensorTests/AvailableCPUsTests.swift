@testable import AssayTensor
import Foundation
import Testing

/// The default thread count: the CPUs the process may use, from its affinity mask and its
/// cgroup's CPU limit, read from cgroupfs trees written here in both layouts.
struct AvailableCPUsTests {
    /// Writes `files` (path → first line) under a new directory and returns it.
    private func tree(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cgroup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, line) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (line + "\n").write(to: url, atomically: true, encoding: .utf8)
        }
        return root
    }

    private func limit(_ files: [String: String], procCgroup: String) throws -> Int? {
        let root = try tree(files)
        defer { try? FileManager.default.removeItem(at: root) }
        let proc = root.appendingPathComponent("proc-self-cgroup")
        try procCgroup.write(to: proc, atomically: true, encoding: .utf8)
        return Threads.cgroupCPULimit(procCgroup: proc.path, root: root.appendingPathComponent("fs").path)
    }

    @Test func cgroupV2LimitsRoundUpAndTheSmallestAncestorBinds() throws {
        // A Kubernetes pod's 1.5 CPUs (150000 of every 100000 µs) inside a node slice limited to 4.
        let nested = ["fs/kubepods.slice/cpu.max": "400000 100000", "fs/kubepods.slice/pod1/cpu.max": "150000 100000",
                      "fs/kubepods.slice/pod1/c1/cpu.max": "max 100000"]
        #expect(try limit(nested, procCgroup: "0::/kubepods.slice/pod1/c1\n") == 2)
        #expect(try limit(["fs/cpu.max": "max 100000"], procCgroup: "0::/\n") == nil)
        // A container whose cgroup is mounted as the root (the path it is told does not exist there).
        #expect(try limit(["fs/cpu.max": "100000 100000"], procCgroup: "0::/docker/abc\n") == 1)
        // A hybrid host mounts v2 at unified/.
        #expect(try limit(["fs/unified/job/cpu.max": "300000 100000"], procCgroup: "0::/job\n") == 3)
        // Nonsense is no limit.
        #expect(try limit(["fs/cpu.max": "-5 100000"], procCgroup: "0::/\n") == nil)
        #expect(try limit(["fs/cpu.max": "garbage"], procCgroup: "0::/\n") == nil)
    }

    @Test func cgroupV1QuotaOverPeriod() throws {
        let proc = "12:memory:/x\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/\n"
        #expect(try limit(["fs/cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "250000", "fs/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000"],
                          procCgroup: proc) == 3)
        #expect(try limit(["fs/cpu/cpu.cfs_quota_us": "50000", "fs/cpu/cpu.cfs_period_us": "100000"], procCgroup: "3:cpu:/\n") == 1)
        #expect(try limit(["fs/cpu/cpu.cfs_quota_us": "-1", "fs/cpu/cpu.cfs_period_us": "100000"], procCgroup: "3:cpu:/\n") == nil)
        // A hierarchy without the cpu controller says nothing.
        #expect(try limit(["fs/cpuacct/cpu.cfs_quota_us": "50000", "fs/cpuacct/cpu.cfs_period_us": "100000"], procCgroup: "3:cpuacct:/\n") == nil)
        #expect(try limit([:], procCgroup: "") == nil)
    }

    @Test func thisProcessHasAtLeastOneCPU() {
        #expect(Threads.available >= 1)
        #expect(Threads.available <= ProcessInfo.processInfo.processorCount)
    }
}
