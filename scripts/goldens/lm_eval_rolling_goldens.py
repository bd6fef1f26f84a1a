"""lm-evaluation-harness's rolling log-likelihood (`loglikelihood_rolling`, the wikitext task's
definition) for a GGUF model, computed by lm-eval's own HFLM driving a transformers model loaded
from the same GGUF file (dequantized to float32), document by document.

Documents are cut from --text the way `assay perplexity --mode rolling --split …` cuts them:
  file        the whole file, one trailing newline dropped
  paragraphs  blocks of lines separated by blank (empty or whitespace-only) lines, joined by "\\n"
  lines       every non-blank line
(--docs N keeps the first N). Aggregates as lm-eval's wikitext task: word_perplexity =
exp(−Σll/Σwords) with words = len(re.split(r"\\s+", doc)), byte_perplexity = exp(−Σll/Σbytes),
bits_per_byte = −Σll/Σbytes/ln 2; token perplexity = exp(−Σll/Σtokens).

  venv-run.sh "torch transformers accelerate gguf lm_eval==0.4.13" lm_eval_rolling_goldens.py \\
      --model DIR/M.gguf --text FILE --split paragraphs --ctx 128 [--docs N] [--out golden.json]
"""
import argparse
import json
import math
import os
import re
import time

import torch
import lm_eval
from lm_eval.api.instance import Instance
from lm_eval.models.huggingface import HFLM
from transformers import AutoModelForCausalLM, AutoTokenizer

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--text", required=True)
parser.add_argument("--split", default="file", choices=["file", "paragraphs", "lines"])
parser.add_argument("--ctx", type=int, required=True)
parser.add_argument("--docs", type=int, default=0)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--out")
args = parser.parse_args()
torch.set_num_threads(args.threads)

text = open(args.text, encoding="utf-8", newline="").read()
def blank(line):
    return line == "" or line.isspace()
if args.split == "file":
    docs = [text[:-1] if text.endswith("\n") else text]
elif args.split == "lines":
    docs = [l for l in text.split("\n") if not blank(l)]
else:
    docs, current = [], []
    for line in text.split("\n"):
        if blank(line):
            if current:
                docs.append("\n".join(current))
            current = []
        else:
            current.append(line)
    if current:
        docs.append("\n".join(current))
if args.docs:
    docs = docs[:args.docs]

directory, name = os.path.split(args.model)
tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
lm = HFLM(pretrained=model, tokenizer=tokenizer, max_length=args.ctx, batch_size=1)
start = time.time()
requests = [Instance(request_type="loglikelihood_rolling", doc={}, arguments=(d,), idx=i) for i, d in enumerate(docs)]
lls = lm.loglikelihood_rolling(requests, disable_tqdm=True)
per_doc = []
for d, ll in zip(docs, lls):
    per_doc.append({"tokens": len(lm.tok_encode(d)), "loglikelihood": float(ll),
                    "words": len(re.split(r"\s+", d)), "bytes": len(d.encode("utf-8"))})
ll = sum(p["loglikelihood"] for p in per_doc)
tokens = sum(p["tokens"] for p in per_doc)
words = sum(p["words"] for p in per_doc)
nbytes = sum(p["bytes"] for p in per_doc)
out = {"lm_eval": lm_eval.__version__ if hasattr(lm_eval, "__version__") else "0.4.x", "torch": torch.__version__,
       "model": name, "text": os.path.basename(args.text), "split": args.split, "ctx": args.ctx,
       "prefix_token": lm.prefix_token_id, "documents": len(docs), "tokens": tokens, "words": words, "bytes": nbytes,
       "loglikelihood": ll, "token_perplexity": math.exp(-ll / tokens), "word_perplexity": math.exp(-ll / words),
       "byte_perplexity": math.exp(-ll / nbytes), "bits_per_byte": -ll / nbytes / math.log(2),
       "seconds": round(time.time() - start, 1), "per_document": per_doc}
if args.out:
    with open(args.out, "w") as f:
        json.dump(out, f, indent=0)
print(json.dumps({k: v for k, v in out.items() if k != "per_document"}))
