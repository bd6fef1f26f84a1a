#!/usr/bin/env bash
# The parser-facing tests under AddressSanitizer (docs/reliability.md, "Fuzzing"): checkpoints,
# tokenizers, suites, ratings, hostile metadata, the fuzz seeds and regressions, redaction and the
# misbehaving-server tests, built with --sanitize=address into .build-asan/. The whole suite does
# not fit CI's time under ASan (it runs every model test again ~10× slower); this subset takes
# about 2.5 minutes to build and half a minute to run on 2 cores. Extra arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
suites="AssayCheckpointTests|AssayTokenizerTests|AssaySuiteTests|AssayFuzzTests|AssayCoreTests|RatingsFileTests|HostileMetadataTests|MisbehavingServerTests"
# The WMT suite run of AssaySuiteTests is a model-free end-to-end run that takes 4 minutes under
# ASan; RatingsFileTests and the agreement statistics' own tests cover its parsers. The sharded
# run of every evaluator runs SmolLM2 and MiniLM through the executable 11 times (6 minutes under
# ASan); the shard-file parsing and refusal tests beside it stay.
skip="humanVsMetricAndInterRaterEqualTheReferences|aMergeOfShardFilesEqualsTheUnshardedRun"
swift build --build-tests --sanitize=address --scratch-path .build-asan 2>&1 | grep -v "Cannot export local symbol '__asan" >&2
# Leaks are not what this looks for (LeakSanitizer lists Foundation's own buffers at exit).
ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
  swift test --skip-build --sanitize=address --scratch-path .build-asan --filter "$suites" --skip "$skip" "$@"
