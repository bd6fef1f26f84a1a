#!/usr/bin/env bash
# Matrix-vector throughput of the decode kernels (CAssayKernels), without the model around them:
# GB/s of weights read per product, best of 7, matrices that together exceed the caches (read from
# memory, as in decode). The shapes are the 1.1B Llama shape's: gate/up (5632 × 2048), down
# (2048 × 5632), attention (2048 × 2048) and output (32000 × 2048). Compiled with the flags of
# Package.swift's CAssayKernels target (-O3 -ffp-contract=off); the kernels choose AVX2 or, for
# Q4_0, Q4_K and Q6_K with ggml numerics and Q4_0, Q4_1, Q4_K, Q5_K and Q6_K with exact numerics,
# AVX-512 (VNNI and VBMI) at run time.
# Usage: bench/kernels.sh [threads=2] [types="2 3 8 12 14"] [outliers=0]   (ggml type ids: q4_0 q4_1
# q8_0 q4_k q6_k; also 6 q5_0, 7 q5_1, 10 q2_k, 11 q3_k, 13 q5_k; outliers: the share of blocks of
# 32 activations with one value 1000 times the rest, which exact numerics meet on their own)
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-2}
types=${2:-"2 3 8 12 14"}
outliers=${3:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clang -O3 -ffp-contract=off -ISources/CAssayKernels/include -ISources/CAssayKernels bench/kernels.c Sources/CAssayKernels/*.c \
  -o "$work/kernels" -lpthread -lm
printf 'type\tnumerics\tthreads\tshape ×matrices\tms\tGB/s\n'
for type in $types; do
  for numerics in 1 0; do
    for shape in "12 5632 2048" "22 2048 5632" "44 2048 2048" "1 32000 2048"; do
      set -- $shape
      "$work/kernels" "$type" "$numerics" "$threads" "$1" "$2" "$3" "$outliers"
    done
  done
done
