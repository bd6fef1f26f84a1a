"""Golden token ids of SmolLM2-135M-Instruct's GGUF tokenizer from llama.cpp (through
llama-cpp-python, vocab only), on strings written for Assay.

Run through ./make-bpe-goldens.sh after scripts/fetch-models.sh. Writes
Tests/AssayTokenizerTests/Golden/bpe-smollm2.json.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wordpiece_goldens import STRINGS as BASE  # noqa: E402

try:
    import llama_cpp  # noqa: E402  (only the golden functions need it; STRINGS is imported elsewhere)
except ImportError:
    llama_cpp = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))
EXTRA = [
    "def f(x):\n    return x ** 2  # square\n", "    four leading spaces", "a  b   c    d", "line\n\n\n\nbreaks", "\t\ttabs",
    "numbers 12345 and 3.14159 and 1,000", "version v1.2.3-beta+build.42", "It's, I'll, we'd, they're, you've",
    "IT'S UPPER'S", "<|im_start|>user\nHi<|im_end|>", "<|endoftext|>", "x" * 300, "ÀÉÎÕÜ àéîõü", "👩‍💻 coder",
    "file\u001cseparator", "nbsp\u00a0space", "mixed 中文 and English", "\u3000ideographic space",
]
STRINGS = BASE + EXTRA


def main():
    model = llama_cpp.Llama(model_path=os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                            vocab_only=True, verbose=False)
    cases = []
    for s in STRINGS:
        b = s.encode("utf-8")
        cases.append({"text": s, "ids": model.tokenize(b, add_bos=False, special=False),
                      "ids_special": model.tokenize(b, add_bos=True, special=True)})
    os.makedirs(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden"), exist_ok=True)
    with open(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden", "bpe-smollm2.json"), "w") as f:
        json.dump({"llama_cpp_python": llama_cpp.__version__, "cases": cases}, f, ensure_ascii=False, indent=0)


if __name__ == "__main__" and "--files" not in sys.argv and "--fixtures" not in sys.argv:
    main()


def files():
    """Token count and SHA-256 of the ids (little-endian int32) of whole files, each read as
    `llama-perplexity -f` reads it: all bytes, one trailing newline dropped."""
    import hashlib
    import struct
    data = os.environ.get("ASSAY_DATA", os.path.join(ROOT, "..", "shared", "data"))
    model = llama_cpp.Llama(model_path=os.path.join(MODELS, "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
                            vocab_only=True, verbose=False)
    out = {}
    for name in ["wikitext2/wiki.test.raw", "wmt-mqm/newstest2021-zhen/newstest2021.zh-en.ref.A.en",
                 "wmt-mqm/generalmt2023-zhen-sxs/generaltest2023.zh-en.ref.refA.en"]:
        raw = open(os.path.join(data, name), "rb").read()
        if raw.endswith(b"\n"):
            raw = raw[:-1]
        ids = model.tokenize(raw, add_bos=False, special=False)
        out[name] = {"count": len(ids), "sha256_int32le": hashlib.sha256(struct.pack(f"<{len(ids)}i", *ids)).hexdigest()}
    with open(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden", "bpe-smollm2-files.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__" and "--files" in sys.argv:
    files()


def fixtures():
    """Ids from llama.cpp for the strings above with each Fixtures/gguf/vocab-<pre>.gguf."""
    out = {}
    for name in sorted(os.listdir(os.path.join(ROOT, "Fixtures", "gguf"))):
        if not name.startswith("vocab-"):
            continue
        model = llama_cpp.Llama(model_path=os.path.join(ROOT, "Fixtures", "gguf", name), vocab_only=True, verbose=False)
        out[name] = [{"ids": model.tokenize(s.encode(), add_bos=False, special=False),
                      "ids_special": model.tokenize(s.encode(), add_bos=True, special=True)} for s in STRINGS]
    with open(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden", "bpe-vocab-fixtures.json"), "w") as f:
        json.dump({"strings": STRINGS, "files": out}, f, ensure_ascii=False)


if __name__ == "__main__" and "--fixtures" in sys.argv:
    fixtures()
