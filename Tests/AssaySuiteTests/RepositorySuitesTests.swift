import AssaySuite
import Foundation
import Testing

/// Every file under suites/ must validate (DESIGN §4).
struct RepositorySuitesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var suiteFiles: [String] {
        let enumerator = FileManager.default.enumerator(atPath: root.appendingPathComponent("suites").path)
        var files: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix(".yaml") || path.hasSuffix(".yml") { files.append(path) }
        }
        return files.sorted()
    }

    @Test func thereAreSuites() {
        #expect(Self.suiteFiles.contains("quickstart.yaml"))
        #expect(Self.suiteFiles.contains("examples/bleu.yaml"))
        #expect(Self.suiteFiles.contains("examples/chrf.yaml"))
    }

    @Test(arguments: suiteFiles)
    func suiteValidates(_ path: String) throws {
        _ = try SuiteLoader().load(Self.root.appendingPathComponent("suites").appendingPathComponent(path))
    }
}
