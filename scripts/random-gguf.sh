#!/usr/bin/env bash
# Writes a Llama- or Qwen2-shaped GGUF with random weights, for speed and memory work on the
# shapes people ship (its perplexity means nothing). Quantized tensors are random blocks whose f16
# scales make typical weights about 0.02 (the F32 files' N(0, 0.02)); norms are ones. A vocabulary
# of byte tokens and placeholders lets both assay and llama.cpp load the file and tokenize any
# text (byte by byte).
# Usage: scripts/random-gguf.sh SHAPE TYPE OUT.gguf
#   SHAPE: 1b (TinyLlama-1.1B), 3b (Llama-3.2-3B), 7b (Llama-2-7B), 8b (Llama-3-8B),
#          qwen2-1.5b, qwen2-7b, or tiny (a 4-layer toy for tests)
#   TYPE:  f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k, or the mixes q4_k_m and q5_k_m
#          (llama-quantize's: output, and attn_v and ffn_down of the layers use_more_bits picks, in Q6_K)
#   GGUF_PYTHON=… a Python with gguf and numpy (otherwise a venv in ~/.cache/assay/gguf-venv).
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
if [ -n "${GGUF_PYTHON:-}" ]; then
  python=$GGUF_PYTHON
else
  venv=$HOME/.cache/assay/gguf-venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "gguf==0.17.1" numpy
  fi
  python=$venv/bin/python
fi
"$python" - "$@" <<'PY'
import sys
import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType as Q
from gguf.constants import GGML_QUANT_SIZES

shape, kind, out = sys.argv[1], sys.argv[2].upper(), sys.argv[3]
# name: (architecture, hidden, feed-forward, layers, heads, kv heads, vocabulary, rope base, context)
shapes = {
    "tiny": ("llama", 256, 768, 4, 4, 2, 1024, 10000.0, 2048),
    "1b": ("llama", 2048, 5632, 22, 32, 4, 32000, 10000.0, 2048),
    "3b": ("llama", 3072, 8192, 28, 24, 8, 128256, 500000.0, 8192),
    "7b": ("llama", 4096, 11008, 32, 32, 32, 32000, 10000.0, 4096),
    "8b": ("llama", 4096, 14336, 32, 32, 8, 128256, 500000.0, 8192),
    "qwen2-1.5b": ("qwen2", 1536, 8960, 28, 12, 2, 151936, 1000000.0, 32768),
    "qwen2-7b": ("qwen2", 3584, 18944, 28, 28, 4, 152064, 1000000.0, 32768),
}
if shape not in shapes:
    sys.exit(f"unknown shape {shape!r}; one of {', '.join(shapes)}")
arch, e, f, layers, heads, kv, vocab, base, context = shapes[shape]
mixes = {"Q4_K_M": Q.Q4_K, "Q5_K_M": Q.Q5_K}
try:
    qtype = mixes[kind] if kind in mixes else Q[kind]
except KeyError:
    sys.exit(f"unknown type {kind!r}")

def use_more_bits(i, n):  # llama.cpp's llama-quant.cpp
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2

def type_of(name):
    """The type a matrix is written in: the file's, or Q6_K where a _M mix spends more bits."""
    if kind not in mixes:
        return qtype
    if name == "output.weight":
        return Q.Q6_K
    if name.endswith(("attn_v.weight", "ffn_down.weight")) and use_more_bits(int(name.split(".")[1]), layers):
        return Q.Q6_K
    return qtype
# Byte offsets of the f16 scales in each block (d, and dmin/m where the format has one).
scales = {Q.Q4_0: [0], Q.Q4_1: [0, 2], Q.Q5_0: [0], Q.Q5_1: [0, 2], Q.Q8_0: [0], Q.Q2_K: [80, 82], Q.Q3_K: [108],
          Q.Q4_K: [0, 2], Q.Q5_K: [0, 2], Q.Q6_K: [208]}
rng = np.random.default_rng(1)
d = e // heads

def matrix(rows, columns, qtype):
    if qtype == Q.F32:
        return (rng.standard_normal((rows, columns), dtype=np.float32) * 0.02), None
    if qtype == Q.F16:
        return (rng.standard_normal((rows, columns), dtype=np.float32) * 0.02).astype(np.float16), None
    if qtype == Q.BF16:  # the high halves of the f32 values (truncated)
        values = rng.standard_normal((rows, columns), dtype=np.float32) * 0.02
        return (values.view(np.uint32) >> 16).astype(np.uint16), Q.BF16
    block, type_size = GGML_QUANT_SIZES[qtype]
    if columns % block:
        sys.exit(f"rows of {columns} values do not hold whole {kind} blocks of {block}")
    blocks = rows * columns // block
    data = rng.integers(0, 256, size=(blocks, type_size), dtype=np.uint8)
    # Block scales that make a typical weight about 0.02 in every type (its value range times the
    # sub-block scales' typical size), as the F32 and F16 files' N(0, 0.02): larger weights
    # overflow the residual stream within a few layers, and the values that then underflow to
    # subnormal floats slow some products tenfold (a Q5_K_M file's Q6_K matrices, whose scale had
    # been 0.0008: typical weights near 1).
    small = {Q.Q4_0: 0.005, Q.Q4_1: 0.005, Q.Q5_0: 0.0025, Q.Q5_1: 0.0025, Q.Q8_0: 0.0003, Q.Q2_K: 0.0008,
             Q.Q3_K: 0.0006, Q.Q4_K: 0.0001, Q.Q5_K: 0.00005, Q.Q6_K: 0.00002}[qtype]
    for offset in scales[qtype]:
        values = (rng.uniform(0.5, 1.5, size=blocks) * small).astype(np.float16)
        if qtype in (Q.Q4_1, Q.Q5_1) and offset == 2:
            values = (-values.astype(np.float32) * (8 if qtype == Q.Q4_1 else 16)).astype(np.float16)
        data[:, offset:offset + 2] = values.view(np.uint8).reshape(blocks, 2)
    return data.reshape(rows, columns // block * type_size), qtype

tensors = [("token_embd.weight", vocab, e)]
for i in range(layers):
    tensors += [(f"blk.{i}.attn_norm.weight", None, e), (f"blk.{i}.attn_q.weight", heads * d, e), (f"blk.{i}.attn_k.weight", kv * d, e),
                (f"blk.{i}.attn_v.weight", kv * d, e), (f"blk.{i}.attn_output.weight", e, heads * d),
                (f"blk.{i}.ffn_norm.weight", None, e), (f"blk.{i}.ffn_gate.weight", f, e), (f"blk.{i}.ffn_up.weight", f, e),
                (f"blk.{i}.ffn_down.weight", e, f)]
    if arch == "qwen2":
        tensors += [(f"blk.{i}.attn_q.bias", None, heads * d), (f"blk.{i}.attn_k.bias", None, kv * d), (f"blk.{i}.attn_v.bias", None, kv * d)]
tensors += [("output_norm.weight", None, e), ("output.weight", vocab, e)]

writer = GGUFWriter(out, arch)
writer.add_name(f"random {shape} {kind}")
writer.add_context_length(context)
writer.add_embedding_length(e)
writer.add_block_count(layers)
writer.add_feed_forward_length(f)
writer.add_head_count(heads)
writer.add_head_count_kv(kv)
writer.add_rope_dimension_count(d)
writer.add_rope_freq_base(base)
writer.add_layer_norm_rms_eps(1e-5)
writer.add_file_type({Q.F32: 0, Q.F16: 1, Q.BF16: 32, Q.Q4_0: 2, Q.Q4_1: 3, Q.Q8_0: 7, Q.Q5_0: 8, Q.Q5_1: 9, Q.Q2_K: 10, Q.Q3_K: 12,
                      Q.Q4_K: 15, Q.Q5_K: 17, Q.Q6_K: 18}[qtype])
writer.add_tokenizer_model("llama")
# Byte tokens (SentencePiece's byte fallback) make any text tokenize, one token per byte.
writer.add_token_list(["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + [f"t{i}" for i in range(259, vocab)])
writer.add_token_scores([0.0] * vocab)
writer.add_token_types([2, 3, 3] + [6] * 256 + [1] * (vocab - 259))
writer.add_bos_token_id(1)
writer.add_eos_token_id(2)
def tensor(name, rows, columns):
    if rows is None:
        data = np.ones(columns, dtype=np.float32) if name.endswith("norm.weight") else np.zeros(columns, dtype=np.float32)
        return data, None
    return matrix(rows, columns, type_of(name))

# Tensor infos first (sizes from a one-row sample of each shape), then the data one tensor at a
# time, so a 7B file never sits in memory whole.
for name, rows, columns in tensors:
    sample, raw = tensor(name, 1 if rows else None, columns)
    dims = (rows, sample.shape[1]) if rows else sample.shape
    writer.add_tensor_info(name, dims, sample.dtype, sample.nbytes * (rows or 1), raw_dtype=raw)
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_ti_data_to_file()
for name, rows, columns in tensors:
    writer.write_tensor_data(tensor(name, rows, columns)[0])
writer.close()
print(f"{out}: {arch} {shape}, {kind}", file=sys.stderr)
PY
