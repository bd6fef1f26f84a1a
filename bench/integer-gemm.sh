#!/usr/bin/env bash
# Prefill's matrix products without the model around them: the integer GEMM of `ggml` numerics
# (CAssayKernels/integer.c, activations quantized inside the timing) against OpenBLAS's sgemm on the
# same weights in f32 (the product `exact` numerics run, its dequantization not timed), side by
# side, GMAC/s (multiply-adds per second), best of 7, on the 1.1B Llama shape's matrices against a
# 512-token batch: gate/up (5632 × 2048), down (2048 × 5632), attention (2048 × 2048). On a CPU with
# AVX-512 VNNI each type runs twice: with it (16 rows a group) and with AVX2 alone (8).
# Compiled with the flags of Package.swift's CAssayKernels target (-O3 -ffp-contract=off).
# Usage: bench/integer-gemm.sh [threads=2] [types="2 3 8 12 14"] [batch=512]   (q4_0 q4_1 q8_0 q4_k q6_k)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
types=${2:-"2 3 8 12 14"}
batch=${3:-512}
scripts/install-system-packages.sh > /dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clang -O3 -ffp-contract=off -ISources/CAssayKernels/include -ISources/CAssayKernels bench/integer_gemm.c Sources/CAssayKernels/*.c \
  -o "$work/integer_gemm" -lopenblas -lpthread -lm
widths=0
grep -qw avx512_vnni /proc/cpuinfo && widths="0 1"
printf 'type\tthreads\tkernel\tshape × batch\tinteger GMAC/s\tsgemm GMAC/s\tratio\n'
for type in $types; do
  for avx2 in $widths; do
    for shape in "5632 2048" "2048 5632" "2048 2048"; do
      set -- $shape
      "$work/integer_gemm" "$type" "$threads" "$1" "$2" "$batch" "$avx2"
    done
  done
done
