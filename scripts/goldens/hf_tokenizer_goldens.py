"""Hugging Face and SentencePiece goldens for the tokenizers of the architectures Assay runs, on the
vocabularies of our own vocab-only fixtures (Fixtures/gguf/vocab-*.gguf, trained on text the project
wrote), so the same vocabulary is checked against llama.cpp (bpe_goldens.py --fixtures) and here.

- Byte-level BPE (Llama 3, Qwen2, DeepSeek-V3): writes Fixtures/tokenizers/<name>.json with the GGUF's
  tokens and merges and the normalizer and pre_tokenizer of the released model's tokenizer.json
  (meta-llama/Llama-3.1-8B, Qwen/Qwen2.5-7B, deepseek-ai/DeepSeek-V3); ids from `tokenizers`.
- SentencePiece (Llama 2 / Mistral, Gemma): builds a SentencePiece model from the GGUF's pieces, scores
  and types in a temporary directory; ids from `sentencepiece` itself; then converts it with
  transformers (LlamaTokenizerFast legacy and non-legacy, GemmaTokenizerFast; from_slow=True) to
  Fixtures/tokenizers/<name>.json, exactly what `save_pretrained` writes; ids from `tokenizers`.

Writes Tests/AssayTokenizerTests/Golden/hf-tokenizer-fixtures.json. Run:
  scripts/goldens/make-hf-tokenizer-goldens.sh
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe_goldens import STRINGS  # noqa: E402

import gguf  # noqa: E402
import sentencepiece  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from sentencepiece import sentencepiece_model_pb2 as spm_pb  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Where prefix rules differ: text around an added token of the fixtures (<|user|>), leading spaces, a written ▁.
SPECIAL = ["<|user|>hi there", "hi<|user|> there", " <|user|>  x", "<|user|><|user|>a", "a<|user|>", "<|begin|>x y<|end|>",
           "\u2581hi there", "<|user|>\u2581x"]
STRINGS = STRINGS + SPECIAL
LLAMA3 = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
          "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
QWEN2 = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
         "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
DEEPSEEK_V3 = ["\\p{N}{1,3}", "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
               "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+|"
               " ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"]


def split(pattern):
    return {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False}


def byte_level(trim_offsets):
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": trim_offsets, "use_regex": False}


# name → (GGUF fixture, normalizer, pre_tokenizer) as in the released model's tokenizer.json.
BYTE_LEVEL = {
    "llama3-like.json": ("vocab-llama-bpe.gguf", None, {"type": "Sequence", "pretokenizers": [split(LLAMA3), byte_level(True)]}),
    "qwen2-like.json": ("vocab-qwen2.gguf", {"type": "NFC"}, {"type": "Sequence", "pretokenizers": [split(QWEN2), byte_level(False)]}),
    "deepseek-v3-like.json": ("vocab-deepseek-v3.gguf", None,
                              {"type": "Sequence", "pretokenizers": [split(p) for p in DEEPSEEK_V3] + [byte_level(True)]}),
}
# name → (GGUF fixture, converter class, legacy)
SENTENCEPIECE = {
    "spm-legacy-like.json": ("vocab-spm.gguf", "LlamaTokenizerFast", True),
    "spm-metaspace-like.json": ("vocab-spm.gguf", "LlamaTokenizerFast", False),
    "gemma-like.json": ("vocab-spm-gemma.gguf", "GemmaTokenizerFast", None),
}


def read_gguf(name):
    reader = gguf.GGUFReader(os.path.join(ROOT, "Fixtures", "gguf", name))

    def values(key):
        field = reader.fields[key]
        return [field.contents(i) for i in range(len(field.data))] if field.types[0] == gguf.GGUFValueType.ARRAY else field.contents()
    keys = reader.fields.keys()
    return {k: values(k) for k in keys if k.startswith("tokenizer.")}


def byte_level_file(name, fixture, normalizer, pre_tokenizer):
    meta = read_gguf(fixture)
    tokens, types = meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"]
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True}
             for i, (t, ty) in enumerate(zip(tokens, types)) if ty == 3]
    # As Llama 3's file: ByteLevel (offsets) then a template adding BOS (<|begin|> here).
    post = {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
         "pair": [{"SpecialToken": {"id": "<|begin|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "<|begin|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
         "special_tokens": {"<|begin|>": {"id": "<|begin|>", "ids": [tokens.index("<|begin|>")], "tokens": ["<|begin|>"]}}}]}
    root = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
            "pre_tokenizer": pre_tokenizer, "post_processor": post,
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": {t: i for i, t in enumerate(tokens)}, "merges": [m.split(" ") for m in meta["tokenizer.ggml.merges"]]}}
    path = os.path.join(ROOT, "Fixtures", "tokenizers", name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(root, f, ensure_ascii=False, separators=(",", ":"))
    tok = tokenizers.Tokenizer.from_file(path)
    return {"hf": [tok.encode(s, add_special_tokens=False).ids for s in STRINGS],
            "hf_special": [tok.encode(s, add_special_tokens=True).ids for s in STRINGS]}


def sentencepiece_file(name, fixture, converter, legacy, directory):
    meta = read_gguf(fixture)
    model = spm_pb.ModelProto()
    for piece, score, kind in zip(meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.scores"], meta["tokenizer.ggml.token_type"]):
        entry = model.pieces.add()
        entry.piece, entry.score, entry.type = piece, score, kind  # GGUF token types are SentencePiece's
    model.trainer_spec.model_type = spm_pb.TrainerSpec.BPE
    model.trainer_spec.byte_fallback = True
    model.trainer_spec.unk_id, model.trainer_spec.bos_id, model.trainer_spec.eos_id, model.trainer_spec.pad_id = 0, 1, 2, -1
    model.normalizer_spec.name = "identity"
    model.normalizer_spec.add_dummy_prefix = meta.get("tokenizer.ggml.add_space_prefix", True)
    model.normalizer_spec.remove_extra_whitespaces = False
    model.normalizer_spec.escape_whitespaces = True
    spm_path = os.path.join(directory, name + ".model")
    with open(spm_path, "wb") as f:
        f.write(model.SerializeToString())
    sp = sentencepiece.SentencePieceProcessor(model_file=spm_path)
    # Llama 2 / Mistral files carry a prefix space (Prepend, or Metaspace "first"); transformers only
    # writes it when asked for one. Gemma's converter has no such setting.
    kwargs = {} if legacy is None else {"legacy": legacy, "add_prefix_space": True}
    fast = getattr(transformers, converter)(vocab_file=spm_path, from_slow=True, **kwargs)
    fast.backend_tokenizer.save(os.path.join(ROOT, "Fixtures", "tokenizers", name))
    tok = tokenizers.Tokenizer.from_file(os.path.join(ROOT, "Fixtures", "tokenizers", name))
    return {"sentencepiece": [sp.encode(s) for s in STRINGS],
            "hf": [tok.encode(s, add_special_tokens=False).ids for s in STRINGS],
            "hf_special": [tok.encode(s, add_special_tokens=True).ids for s in STRINGS]}


def main():
    files = {}
    for name, (fixture, normalizer, pre) in BYTE_LEVEL.items():
        files[name] = {"gguf": fixture, **byte_level_file(name, fixture, normalizer, pre)}
    with tempfile.TemporaryDirectory() as directory:
        for name, (fixture, converter, legacy) in SENTENCEPIECE.items():
            files[name] = {"gguf": fixture, **sentencepiece_file(name, fixture, converter, legacy, directory)}
    versions = {"tokenizers": tokenizers.__version__, "transformers": transformers.__version__, "sentencepiece": sentencepiece.__version__}
    with open(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden", "hf-tokenizer-fixtures.json"), "w") as f:
        json.dump({"versions": versions, "strings": STRINGS, "files": files}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
