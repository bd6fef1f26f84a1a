#!/usr/bin/env bash
# The encoder's matrix products without the encoder around them: assay_sgemm_ordered (each output
# one chain of fused multiply-adds in order, so an embedding is the same bits on any batch, thread
# count or SIMD level; CAssayKernels/ordered.c) against OpenBLAS's sgemm on the same arrays, one
# thread each, GFLOP/s, best of 5, on all-MiniLM-L6-v2's shapes for a batch of 8,192 tokens —
# up (1536 × 384), down (384 × 1536), the attention output (384 × 384) — and one head's scores
# over a 40-token sentence (40 × 32 against 40 keys). On a CPU with AVX-512 the ordered products run
# twice: with it (12 × 32 register blocks) and with AVX2 alone (6 × 16).
# Compiled with the flags of Package.swift's CAssayKernels target (-O3 -ffp-contract=off).
# Usage: bench/ordered.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-system-packages.sh > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clang -O3 -ffp-contract=off -ISources/CAssayKernels/include -ISources/CAssayKernels bench/ordered.c Sources/CAssayKernels/*.c \
  -o "$work/ordered" -lopenblas -lpthread -lm
printf 'm×n×k\tkernel\tordered GFLOP/s\tOpenBLAS GFLOP/s\tratio\tlargest difference\n'
for shape in "8192 1536 384" "8192 384 1536" "8192 384 384" "40 40 32"; do
  set -- $shape
  "$work/ordered" "$1" "$2" "$3"
done
