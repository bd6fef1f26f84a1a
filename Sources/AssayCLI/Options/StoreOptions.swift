import ArgumentParser
import AssayStore
import Foundation

/// `--store PATH`, shared by the commands that read or write the results store.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Results store (SQLite).", discussion: "Default: $ASSAY_STORE, else .assay/assay.sqlite in the working directory.", valueName: "path"))
    var store: String?

    var url: URL { store.map { URL(fileURLWithPath: $0) } ?? ResultsStore.defaultURL() }

    func open() throws -> ResultsStore { try ResultsStore(url: url) }
}

/// `--format` for commands that print for people or for programs.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
    case md
}
