#!/usr/bin/env bash
# Could a maintained CSV library parse ratings files for `assay ratings import`? Parses the
# 1,000,000-row file of bench/ratings.sh with yaslab/CSV.swift and swiftcsv/SwiftCSV (the two on
# the package mirror), release build, parse only (no validation, hashing or store), and prints
# rows/s beside the target the whole import must meet (200k rows/s, bench/ratings.sh); then shows
# what each makes of two broken exports (text after a closing quote, a quote left open).
# Builds a throw-away package in a temporary directory; nothing is added to Assay's dependencies.
# Usage: bench/csv-libraries.sh [rows]
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-1000000}
repeats=${REPEATS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Sources/csvbench"
cat > "$work/Package.swift" <<'SWIFT'
// swift-tools-version:6.0
import PackageDescription
let package = Package(
    name: "csvbench",
    dependencies: [
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", exact: "0.10.0"),
    ],
    targets: [.executableTarget(name: "csvbench", dependencies: [
        .product(name: "CSV", package: "CSV.swift"), .product(name: "SwiftCSV", package: "SwiftCSV"),
    ])])
SWIFT
cat > "$work/Sources/csvbench/main.swift" <<'SWIFT'
import CSV
import Foundation
import SwiftCSV

let path = CommandLine.arguments[1], repeats = Int(CommandLine.arguments[2])!
func median(_ name: String, _ body: () throws -> Int) rethrows {
    var seconds: [Double] = [], rows = 0
    for _ in 0..<repeats {
        let start = Date()
        rows = try body()
        seconds.append(Date().timeIntervalSince(start))
    }
    let m = seconds.sorted()[seconds.count / 2]
    print("\(name): \(rows) rows, median \(String(format: "%.2f", m)) s → \(Int(Double(rows) / m)) rows/s")
}
try median("yaslab/CSV.swift 2.5.2, CSVReader over the file read as a String") {
    let reader = try CSVReader(string: try String(contentsOfFile: path, encoding: .utf8), hasHeaderRow: true)
    var n = 0
    while let row = reader.next() { n += row.count == 3 ? 1 : 0 }
    return n
}
try median("yaslab/CSV.swift 2.5.2, CSVReader over an InputStream") {
    let reader = try CSVReader(stream: InputStream(fileAtPath: path)!, hasHeaderRow: true)
    var n = 0
    while let row = reader.next() { n += row.count == 3 ? 1 : 0 }
    return n
}
try median("swiftcsv/SwiftCSV 0.10.0, enumerated rows") {
    try SwiftCSV.CSV<Enumerated>(url: URL(fileURLWithPath: path), delimiter: .comma, loadColumns: false).rows.count
}
// What each makes of two broken exports (`assay ratings import` lists both as problems with their line).
for text in ["item,rater,label\n1,a,\"good\"ish\n2,a,ok\n", "item,rater,label\n1,a,\"open\n2,a,ok\n3,b,bad\n"] {
    print("broken input \(text.debugDescription):")
    let reader = try CSVReader(string: text, hasHeaderRow: true)
    var rows: [[String]] = []
    while let row = reader.next() { rows.append(row) }
    print("  yaslab/CSV.swift: rows \(rows), error \(reader.error.map { "\($0)" } ?? "none")")
    do {
        print("  SwiftCSV: rows \(try SwiftCSV.CSV<Enumerated>(string: text, delimiter: .comma, loadColumns: false).rows)")
    } catch { print("  SwiftCSV: error \(error)") }
}
SWIFT
python3 bench/lib/ratings-csv.py "$rows" "$work/ratings.csv"
swift build -c release --package-path "$work" >&2
echo "rows: $rows, repeats: $repeats (parse only; the whole import's target is 200k rows/s)"
"$work/.build/release/csvbench" "$work/ratings.csv" "$repeats"
