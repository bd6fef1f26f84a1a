"""Checks `assay quantize` against llama.cpp's quantizer on whole files and that llama.cpp loads
the result:  python compare_quantize.py ASSAY_BIN MODEL.gguf TYPE [--pure]
For TYPE (q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, or the mixes q4_k_s, q4_k_m, q5_k_s,
q5_k_m) it writes the model with `assay quantize`
and with llama-cpp-python's `llama_model_quantize` (allow_requantize; pure when asked), compares
every tensor's type and bytes, then loads Assay's file with llama.cpp and evaluates a few tokens.
Run: scripts/goldens/venv-run.sh "llama-cpp-python==0.3.36 gguf numpy" scripts/goldens/compare_quantize.py …"""
import os
import subprocess
import sys
import tempfile

import llama_cpp
from gguf import GGUFReader

assay, model, type_ = sys.argv[1], sys.argv[2], sys.argv[3].lower()
pure = "--pure" in sys.argv[4:]
# q4_k/q5_k are llama.cpp's Q4_K_S/Q5_K_S ftypes, compared with --pure; the mixes without.
ftypes = {"q8_0": 7, "q4_0": 2, "q4_1": 3, "q5_0": 8, "q5_1": 9, "q4_k": 14, "q5_k": 16, "q6_k": 18,
          "q4_k_s": 14, "q4_k_m": 15, "q5_k_s": 16, "q5_k_m": 17}
with tempfile.TemporaryDirectory() as work:
    ours, theirs = os.path.join(work, "assay.gguf"), os.path.join(work, "llama.gguf")
    subprocess.run([assay, "quantize", model, "--type", type_, "--out", ours] + (["--pure"] if pure else []), check=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.allow_requantize, params.pure, params.nthread = ftypes[type_], True, pure, 2
    assert llama_cpp.llama_model_quantize(model.encode(), theirs.encode(), params) == 0
    a, b = GGUFReader(ours), GGUFReader(theirs)
    ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
    assert ta.keys() == tb.keys(), "different tensor names"
    differ = [n for n in ta if ta[n].tensor_type != tb[n].tensor_type or ta[n].data.tobytes() != tb[n].data.tobytes()]
    types = sorted({t.tensor_type.name for t in a.tensors})
    print(f"{type_}{' pure' if pure else ''}: {len(ta)} tensors ({', '.join(types)}), {len(differ)} differ from llama.cpp's"
          + (f": {differ[:5]}" if differ else ""))
    llm = llama_cpp.Llama(model_path=ours, n_ctx=64, verbose=False)
    tokens = llm.tokenize(b"The quick brown fox jumps over the lazy dog.")
    llm.eval(tokens)
    print(f"llama.cpp loaded Assay's file and evaluated {len(tokens)} tokens")
    sys.exit(1 if differ else 0)
