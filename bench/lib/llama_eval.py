# llama.cpp's speed through llama-cpp-python (bench/speed.sh, bench/contention.sh): one batch of
# PROMPT random token ids from an empty cache (pp; skipped when PROMPT is 0), then GENERATE random
# ids one at a time from an empty cache (tg), on THREADS threads (default 2), after one warm-up batch.
# Usage: python llama_eval.py MODEL PROMPT GENERATE [THREADS]; prints JSON {pp, tg, peak_rss_bytes}.
# LLAMA_REPACK=0 loads without llama.cpp's extra buffer types (the model parameter
# `use_extra_bufts`): weights stay in the mapped file, as assay's do, instead of being copied into
# CPU_REPACK's interleaved layouts (Q4_0 and Q4_K as 8-row blocks, on CPUs with AVX2).
import json, os, random, resource, sys, time
import llama_cpp
import llama_cpp.llama
if os.environ.get("LLAMA_REPACK", "1") == "0":
    defaults = llama_cpp.llama.llama_cpp.llama_model_default_params
    # ctypes would take an unknown attribute silently: an older llama-cpp-python must fail here.
    assert "use_extra_bufts" in [name for name, _ in defaults()._fields_], "this llama-cpp-python has no use_extra_bufts"
    def without_repack():
        params = defaults()
        params.use_extra_bufts = False
        return params
    llama_cpp.llama.llama_cpp.llama_model_default_params = without_repack
path, prompt, generate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
batch = max(prompt, 1)
llm = llama_cpp.Llama(model_path=path, n_ctx=prompt + generate + 16, n_batch=batch, n_ubatch=batch, n_threads=threads,
                      n_threads_batch=threads, verbose=False)
vocabulary = llm.n_vocab()
rng = random.Random(1)
def timed(tokens, one_at_a_time):
    llm.reset()
    llm._ctx.kv_cache_clear() if hasattr(llm._ctx, "kv_cache_clear") else None
    start = time.perf_counter()
    if one_at_a_time:
        for t in tokens:
            llm.eval([t])
    else:
        llm.eval(tokens)
    return time.perf_counter() - start
timed([rng.randrange(vocabulary) for _ in range(max(prompt, 8))], False)  # warm-up
pp = timed([rng.randrange(vocabulary) for _ in range(prompt)], False) if prompt else None
tg = timed([rng.randrange(vocabulary) for _ in range(generate)], True)
print(json.dumps({"pp": prompt / pp if pp else None, "tg": generate / tg,
                  "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
