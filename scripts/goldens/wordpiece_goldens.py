"""Golden token ids for all-MiniLM-L6-v2's WordPiece tokenizer from Hugging Face `tokenizers`
(its tokenizer.json; truncation and padding off), on strings written for Assay.

Run through ./make-tokenizer-goldens.sh after scripts/fetch-models.sh. Writes
Tests/AssayTokenizerTests/Golden/wordpiece-minilm.json.
"""
import json
import os


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.environ.get("ASSAY_MODELS", os.path.expanduser("~/.cache/assay/models"))

STRINGS = [
    "Hello, world!", "  leading spaces", "trailing spaces   ", "multiple    inner   spaces", "new\nlines\n\nhere",
    "tabs\tand\tmore\ttabs", "\r\nwindows line end", "", " ", "digits 0123456789", "a long number 31415926535897932384626",
    "1,000,000.50 and 3.14", "don't can't won't I'm you're", "“Curly quotes” and ‘single’ ones", "em—dash – en dash",
    "emoji 😀🎉👍🏽 family 👨‍👩‍👧", "中文分词测试：北京欢迎你", "日本語のテキスト、カタカナとひらがな", "한국어 문장입니다",
    "Ünïcödé àccénts Größe façade", "ΟΔΟΣ Σοφία", "Привет, мир!", "مرحبا بالعالم", "שלום עולם",
    "हिन्दी पाठ", "ไทย", "unaffable unbelievably tokenization", "supercalifragilisticexpialidocious",
    "a" * 101, "b" * 100, "[CLS] [SEP] [MASK] in text", "mask[MASK]glued", "e-mail: someone@example.org, url https://example.org/a?b=c",
    "C++ and C# and F#", "(parentheses) [brackets] {braces} <angles>", "snake_case camelCase kebab-case",
    "zero\u200bwidth\u200bspace", "control\u0007char\u0000null", "soft\u00adhyphen", "non\u00a0breaking\u202fthin",
    "fullwidth ＡＢＣ １２３", "ligature ﬁ and ㎞", "MiXeD CaSe WORDS", "combining e\u0301 vs é", "replacement \ufffd char",
    "last line with a period.",
]


def main():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(os.path.join(MODELS, "all-minilm-l6-v2", "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cases = [{"text": s, "ids": tok.encode(s).ids, "tokens": tok.encode(s).tokens, "decoded": tok.decode(tok.encode(s).ids)}
             for s in STRINGS]
    os.makedirs(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden"), exist_ok=True)
    with open(os.path.join(ROOT, "Tests", "AssayTokenizerTests", "Golden", "wordpiece-minilm.json"), "w") as f:
        json.dump({"tokenizers": __import__("tokenizers").__version__, "cases": cases}, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
