import ArgumentParser
import AssayStore
import Foundation

/// `--store PATH`, shared by the commands that read or write the results store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Results store (SQLite).", discussion: "Default: $ASSAY_STORE, else .assay/assay.sqlite in the working directory.", valueName: "path"))
    var store: String?

    var url: URL { store.map { URL(fileURLWithPath: $0) } ?? ResultsStore.defaultURL() }

    /// Opens the store and finishes what a killed `assay run` left (ResultsStore.recover): a
    /// failure there is a warning, not the command's error.
    func open() throws -> ResultsStore {
        let store = try ResultsStore(url: url)
        do { try store.recover() } catch { Terminal.warning("could not finish what an interrupted run left: \(error.localizedDescription)") }
        do { try store.pruneItemCache() } catch { Terminal.warning("could not remove week-old items kept for --resume: \(error.localizedDescription)") }
        return store
    }
}

/// `--format` for commands that print for people or for programs.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    case md
}
