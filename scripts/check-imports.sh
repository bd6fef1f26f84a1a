#!/usr/bin/env bash
# Checks the module map of docs/architecture.md against the code:
#  - every target's declared dependencies in Package.swift are edges of the map (none runs upward);
#  - every `import` in Sources/<Target> is a dependency the map allows for that target (the build's
#    --explicit-target-dependency-import-check then makes sure it is also declared);
#  - only AssayReport writes SVG or Markdown tables.
# Exits 1 with one line per violation.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - "$(swift package dump-package)" <<'PY'
import json, os, re, sys

# The map: what each library target may depend on (Package.swift's comment and docs/architecture.md).
allowed = {
    "COpenSSL": set(),
    "AssayCore": {"COpenSSL"},
    "COpenBLAS": set(),
    "CAssayKernels": set(),
    "AssayTensor": {"COpenBLAS", "CAssayKernels"},
    "AssayCheckpoint": {"AssayCore", "AssayTensor"},
    "AssayTokenizer": {"AssayCore"},
    "AssayModels": {"AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AsyncHTTPClient", "NIOCore", "NIOHTTP1", "NIOPosix", "NIOSSL"},
    "AssayStats": {"AssayCore"},
    "AssayMetrics": {"AssayCore", "AssayStats", "Histogram"},
    "AssayProcedures": {"AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayMetrics"},
    "AssayEvaluators": {"AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayMetrics", "AssayProcedures"},
    "AssaySuite": {"AssayCore", "AssayStats", "AssayMetrics", "AssayEvaluators", "Yams"},
    "AssayReport": {"AssayCore", "AssayStats", "AssayMetrics", "AssayProcedures", "AssayEvaluators", "AssaySuite", "Mustache"},
    "AssayStore": {"AssayCore", "AssayMetrics", "AssayEvaluators", "AssaySuite", "GRDB"},
    "AssayCLI": {"AssayCore", "AssayTensor", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayMetrics",
                 "AssayProcedures", "AssayEvaluators", "AssaySuite", "AssayReport", "AssayStore", "ArgumentParser"},
    "CAssayStartup": set(),
    "assay": {"AssayCLI", "CAssayStartup"},
    "AssayFuzzHarness": {"AssayCore", "AssayCheckpoint", "AssayTokenizer", "AssayModels", "AssayStats", "AssayEvaluators", "AssaySuite"},
}
system = {"Foundation", "FoundationNetworking", "Dispatch", "Glibc", "Darwin", "Musl", "os", "Synchronization"}
problems = []
package = json.loads(sys.argv[1])
for target in package["targets"]:
    name = target["name"]
    if target["type"] == "test" or name == "AssayTestSupport":
        continue
    if name not in allowed:
        problems.append(f"Package.swift: target {name} is not on the module map (scripts/check-imports.sh, docs/architecture.md)")
        continue
    for dependency in target.get("dependencies", []):
        kind, value = next(iter(dependency.items()))
        dep = value[0]
        if dep not in allowed[name]:
            problems.append(f"Package.swift: {name} depends on {dep}, which the module map does not allow")
    directory = target.get("path") or os.path.join("Sources", name)
    for root, _, files in os.walk(directory):
        for file in files:
            if not file.endswith(".swift"):
                continue
            path = os.path.join(root, file)
            text = open(path, encoding="utf-8").read()
            for number, line in enumerate(text.splitlines(), 1):
                match = re.match(r"\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|package|internal|private|fileprivate)\s+)?import\s+"
                                 r"(?:(?:struct|enum|class|func|protocol|typealias|var|let)\s+)?(\w+)", line)
                if match and match.group(1) not in system and match.group(1) not in allowed[name]:
                    problems.append(f"{path}:{number}: {name} imports {match.group(1)}, which the module map does not allow")
            if name != "AssayReport":
                if "<svg" in text:
                    problems.append(f"{path}: writes SVG; renderers live in AssayReport")
                if re.search(r'"[^"\n]*\|\s*:?-{3,}', text):
                    problems.append(f"{path}: writes a Markdown table; renderers live in AssayReport")
for problem in problems:
    print("error: " + problem, file=sys.stderr)
if problems:
    print(f"{len(problems)} import-map violation(s); see docs/architecture.md", file=sys.stderr)
    sys.exit(1)
print("imports follow the module map", file=sys.stderr)
PY
