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

import llama_cpp  # noqa: E402

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


if __name__ == "__main__":
    main()
