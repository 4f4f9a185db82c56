"""CPU re-ranking throughput of one cross-encoder through its peers' paths and loralab's, in one run.

Same weights, same DL19 (query, BM25 candidate) pairs, max length 256 with truncation, batches of 32:
sentence-transformers (fp32, bf16), an ONNX export run in onnxruntime (fp32, and int8 from
`quantize_dynamic`: the FlashRank/fastembed route) and loralab's cross-encoder ranker (fp32, bf16, int8-dynamic
with both engines). Each row gives pairs/s as ratios to sentence-transformers fp32 and to onnxruntime int8, its
share of this CPU's matmul peak for its dtype (measured in the same run, as benchmarks/cpu_matmul.py does), and
how far its scores are from sentence-transformers fp32 (max |diff| of the logits, Spearman), so a fast but wrong
path shows. A path that fails records its error in its row. Needs the bench extra: pip install 'loralab[bench]'.
Usage: python benchmarks/rerank_vs_peers.py [--model FOLDER] [--pairs 600] [--rounds 2] [--skip bf16,torchao]
       [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

MAX_LENGTH, BATCH = 256, 32
SLOW_CALL_S = 2.0  # a peak kernel slower than this per full-shape call is measured on fewer rows (see peaks)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- set-up

def build_default_model(folder: Path) -> str:
    """MiniLM (the packaged `minilm`) with a seeded 1-logit head: untrained, but the same weights for every path,
    which is all a speed and agreement comparison needs."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from loralab.models.packaged import PACKAGED

    source = str(PACKAGED["minilm"].require())
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=1)
    # Only the HF files: sentence-transformers then loads it as a plain sequence classifier, not a bi-encoder.
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(source).save_pretrained(folder)
    return str(folder)


def load_pairs(count: int) -> list[tuple[str, str]]:
    from loralab.data.registry import load_rerank_dataset

    data = load_rerank_dataset("trec-dl-2019")
    pairs = []
    for qid in data.candidates.query_ids:
        for doc_id, _ in data.candidates.ranked(qid):
            pairs.append((data.queries[qid], data.corpus[doc_id].full_text))
            if len(pairs) == count:
                return pairs
    return pairs


def flop_per_pair(folder: str, pairs: list[tuple[str, str]]) -> tuple[float, float, int]:
    """2 x (linear weights applied to every token) x (mean real tokens per pair after truncation), nothing else:
    attention's score and value matmuls, layer norms, softmax, padding and the per-pair pooler/classifier are left
    out, so shares of peak are a floor on the work actually done."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    lengths = [len(ids) for ids in tokenizer([q for q, _ in pairs], [p for _, p in pairs], truncation=True,
                                             max_length=MAX_LENGTH)["input_ids"]]
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    params = sum(m.weight.numel() for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)
                 and not any(part in name for part in ("embeddings", "pooler", "classifier", "score")))
    mean_tokens = float(np.mean(lengths))
    return 2 * params * mean_tokens, mean_tokens, params


# ---------------------------------------------------------------- matmul peaks

def best_s(fn, repeats: int, warm: bool = False) -> float:
    if not warm:
        fn()  # first call builds kernels / packs weights
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def gflops(make_fn, rows: int, k: int, n: int, repeats: int) -> dict:
    """GFLOP/s at (rows x k) @ (k x n). A kernel that would take over SLOW_CALL_S per call at the full shape
    (bf16 and torch._int_mm on CPUs without AVX512-BF16/VNNI fall back to slow loops) is measured on rows/8 instead:
    a slow kernel's rate hardly depends on rows, and the full shape would cost minutes."""
    probe_rows = max(rows // 8, 256)
    probe_fn = make_fn(probe_rows)
    probe = best_s(probe_fn, 1)
    warm = probe * rows / probe_rows > SLOW_CALL_S
    if not warm:
        probe_rows, probe_fn = rows, make_fn(rows)
    seconds = best_s(probe_fn, repeats, warm)
    return {"gflops": 2 * probe_rows * k * n / seconds / 1e9, "rows": probe_rows}


def matmul_peaks(rows: int, repeats: int) -> dict:
    k, n = 384, 1536  # MiniLM's FFN: 384 -> 1536, as in benchmarks/cpu_matmul.py
    torch.manual_seed(0)
    peaks = {}

    def float_mm(dtype):
        def make(m):
            a, w = torch.randn(m, k, dtype=dtype), torch.randn(n, k, dtype=dtype)
            return lambda: a @ w.t()
        return make

    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        try:
            peaks[name] = {"kernel": f"torch matmul {name}", **gflops(float_mm(dtype), rows, k, n, repeats)}
        except Exception as exc:  # noqa: BLE001
            peaks[name] = {"kernel": f"torch matmul {name}", "error": f"{type(exc).__name__}: {exc}"}

    def int_mm(m):
        a8, w8 = torch.randint(-128, 127, (m, k), dtype=torch.int8), torch.randint(-128, 127, (k, n), dtype=torch.int8)
        return lambda: torch._int_mm(a8, w8)

    def fbgemm(m):
        # fbgemm/onednn through torch.ao's dynamic Linear: what loralab's int8-dynamic (torch.ao) runs.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            linear = torch.ao.quantization.quantize_dynamic(
                torch.nn.Sequential(torch.nn.Linear(k, n)), {torch.nn.Linear}, dtype=torch.qint8)
        x = torch.randn(m, k)
        return lambda: linear(x)

    int8 = {}
    engine = torch.backends.quantized.engine
    for name, make in (("torch._int_mm", int_mm), (f"torch.ao dynamic Linear ({engine})", fbgemm)):
        try:
            int8[name] = gflops(make, rows, k, n, repeats)
        except Exception as exc:  # noqa: BLE001
            int8[name] = {"error": f"{type(exc).__name__}: {exc}"}
    working = {name: v for name, v in int8.items() if "gflops" in v}
    if working:
        best = max(working, key=lambda name: working[name]["gflops"])
        peaks["int8"] = {"kernel": best, **working[best]}
    else:
        peaks["int8"] = {"kernel": "none", "error": "; ".join(f"{k}: {v['error']}" for k, v in int8.items())}
    peaks["int8 candidates"] = int8
    return peaks


# ---------------------------------------------------------------- paths: each returns score(pairs) -> logits

def st_path(folder: str, dtype: torch.dtype):
    from sentence_transformers import CrossEncoder

    model = CrossEncoder(folder, max_length=MAX_LENGTH, model_kwargs={"dtype": dtype})
    actual = next(model.model.parameters()).dtype
    if actual != dtype:
        raise RuntimeError(f"sentence-transformers loaded {actual}, not {dtype}")
    identity = torch.nn.Identity()  # raw logits, comparable across paths (the default adds a sigmoid)
    return lambda pairs: np.asarray(model.predict(pairs, batch_size=BATCH, activation_fn=identity,
                                                  show_progress_bar=False), dtype=np.float64)


def export_onnx(folder: str, out: Path) -> Path:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    sample = tokenizer(["a query"] * 2, ["a passage to score"] * 2, return_tensors="pt", padding=True)
    names = [key for key in ("input_ids", "attention_mask", "token_type_ids") if key in sample]

    class Logits(torch.nn.Module):  # positional inputs in a fixed order, one output: what the exporter traces
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs))).logits

    path = out / "model.onnx"
    axes = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logits(model), tuple(sample[name] for name in names), str(path), dynamo=False,
                          input_names=names, output_names=["logits"], dynamic_axes=axes, opset_version=17)
    return path


def ort_path(folder: str, onnx_file: Path, threads: int):
    import onnxruntime as ort
    from transformers import AutoTokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    tokenizer = AutoTokenizer.from_pretrained(folder)

    def score(pairs):
        # Longest first, as sentence-transformers and loralab batch: padding waste is the same for every path.
        order = np.argsort([-(len(q) + len(p)) for q, p in pairs], kind="stable")
        scores = np.empty(len(pairs))
        for start in range(0, len(order), BATCH):
            idx = order[start:start + BATCH]
            enc = tokenizer([pairs[i][0] for i in idx], [pairs[i][1] for i in idx], truncation=True,
                            max_length=MAX_LENGTH, padding=True, return_tensors="np")
            logits = session.run(None, {name: enc[name].astype(np.int64) for name in names})[0]
            scores[idx] = logits[:, 0]
        return scores
    return score


def ort_int8_file(onnx_file: Path) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = onnx_file.with_name("model.int8.onnx")
    logging.getLogger().setLevel(logging.ERROR)  # its advice to run shape pre-processing first: FlashRank does not
    quantize_dynamic(str(onnx_file), str(out), weight_type=QuantType.QInt8)
    return out


def loralab_path(folder: str, **options):
    from loralab.data.schemas import Document
    from loralab.rankers.registry import build_ranker, ranker_config

    ranker = build_ranker(ranker_config("cross-encoder", model=folder, max_length=MAX_LENGTH, batch_size=BATCH,
                                        **options))

    def score(pairs):
        docs = [Document(id=str(i), text=p) for i, (_, p) in enumerate(pairs)]
        return np.asarray(ranker.score_pairs([q for q, _ in pairs], docs), dtype=np.float64)
    return score


# ---------------------------------------------------------------- measuring

def measure(name: str, dtype: str, build, pairs, rounds: int) -> dict:
    row = {"path": name, "dtype": dtype}
    start = time.perf_counter()
    log(f"[{name}] building")
    try:
        score = build()
        row["build_s"] = time.perf_counter() - start
        start = time.perf_counter()
        score(pairs[:BATCH])  # warm-up: kernels, weight packing, torch.compile for torchao
        row["warmup_s"] = time.perf_counter() - start
        best, scores = math.inf, None
        for _ in range(rounds):
            start = time.perf_counter()
            scores = score(pairs)
            best = min(best, time.perf_counter() - start)
        row["pairs_per_s"] = len(pairs) / best
        row["scores"] = np.asarray(scores, dtype=np.float64)
        log(f"[{name}] {row['pairs_per_s']:.1f} pairs/s "
            f"(build {row['build_s']:.1f} s, warm-up {row['warmup_s']:.1f} s)")
    except Exception as exc:  # noqa: BLE001 - a path that fails records why and the run goes on
        row["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"[:300]
        log(f"[{name}] failed: {row['error']}")
    return row


def agreement(row: dict, reference) -> None:
    from scipy.stats import spearmanr

    if "scores" not in row or reference is None:
        return
    row["max_abs_diff"] = float(np.max(np.abs(row["scores"] - reference)))
    row["spearman"] = float(spearmanr(row["scores"], reference).statistic) if len(reference) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a cross-encoder folder (save_pretrained, 1-logit head); default: MiniLM "
                        "with a seeded random head")
    parser.add_argument("--pairs", type=int, default=600, help="first N (query, passage) DL19 BM25 candidate pairs")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes per path; the best counts")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--peak-rows", type=int, default=16384, help="rows of the peak matmul: 64 pairs x 256 tokens")
    parser.add_argument("--skip", default="", help="comma-separated parts of path names to leave out, e.g. "
                        "bf16,torchao (on CPUs without AVX512-BF16 bf16 is a slow fallback; torchao compiles ~1 min)")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    import transformers

    transformers.logging.set_verbosity_error()  # the new head's load report and per-load progress bars
    transformers.logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        folder = args.model or build_default_model(work / "minilm-ce")
        pairs = load_pairs(args.pairs)
        flop, mean_tokens, linear_params = flop_per_pair(folder, pairs)
        log(f"{len(pairs)} pairs, {mean_tokens:.1f} tokens/pair, {linear_params / 1e6:.2f}M linear weights, "
            f"{args.threads} threads; measuring matmul peaks")
        start = time.perf_counter()
        peaks = matmul_peaks(args.peak_rows, repeats=3)
        log(f"matmul peaks measured in {time.perf_counter() - start:.1f} s")
        onnx_files: dict[str, Path] = {}

        def onnx_fp32():
            onnx_files["fp32"] = export_onnx(folder, work)
            return ort_path(folder, onnx_files["fp32"], args.threads)

        def onnx_int8():
            source = onnx_files.get("fp32") or export_onnx(folder, work)
            return ort_path(folder, ort_int8_file(source), args.threads)

        paths = [
            ("sentence-transformers fp32", "fp32", lambda: st_path(folder, torch.float32)),
            ("sentence-transformers bf16", "bf16", lambda: st_path(folder, torch.bfloat16)),
            ("onnxruntime fp32", "fp32", onnx_fp32),
            ("onnxruntime int8 (quantize_dynamic)", "int8", onnx_int8),
            ("loralab fp32", "fp32", lambda: loralab_path(folder)),
            ("loralab bf16", "bf16", lambda: loralab_path(folder, dtype="bfloat16")),
            ("loralab int8-dynamic torch.ao", "int8", lambda: loralab_path(folder, quantize="int8-dynamic")),
            ("loralab int8-dynamic torch.ao per-channel", "int8",
             lambda: loralab_path(folder, quantize="int8-dynamic:per_channel=true")),
            # smoothing keeps SciFact quality (experiments/qat-scifact); its per-channel multiply costs some speed
            ("loralab int8-dynamic torch.ao per-channel smoothed 0.8", "int8",
             lambda: loralab_path(folder, quantize="int8-dynamic:per_channel=true,smooth=0.8")),
            ("loralab int8-dynamic torchao+compile", "int8",
             lambda: loralab_path(folder, quantize="int8-dynamic:engine=torchao")),
        ]
        skip = [part for part in args.skip.split(",") if part]
        rows = [{"path": name, "dtype": dtype, "error": "skipped (--skip)"} if any(s in name for s in skip)
                else measure(name, dtype, build, pairs, args.rounds) for name, dtype, build in paths]
    by_name = {row["path"]: row for row in rows}
    reference = by_name["sentence-transformers fp32"].get("scores")
    base = by_name["sentence-transformers fp32"].get("pairs_per_s")
    ort8 = by_name["onnxruntime int8 (quantize_dynamic)"].get("pairs_per_s")
    # A random head's logits sit close together: judge max |diff| against their spread.
    reference_std = float(np.std(reference)) if reference is not None else None
    for row in rows:
        agreement(row, reference)
        if "pairs_per_s" in row:
            row["x_st_fp32"] = row["pairs_per_s"] / base if base else None
            row["x_ort_int8"] = row["pairs_per_s"] / ort8 if ort8 else None
            peak = peaks.get(row["dtype"], {}).get("gflops")
            row["share_of_peak"] = row["pairs_per_s"] * flop / (peak * 1e9) if peak else None

    def cell(value, fmt):
        return format(value, fmt) if isinstance(value, float) and not math.isnan(value) else "-"

    print(f"threads: {args.threads}  torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})  "
          f"pairs: {len(pairs)}  tokens/pair: {mean_tokens:.1f}  GFLOP/pair: {flop / 1e9:.3f}  "
          f"ST fp32 logit std: {cell(reference_std, '.4f')}")
    for name in ("fp32", "bf16", "int8"):
        peak = peaks[name]
        print(f"peak {name}: " + (f"{peak['gflops']:.1f} GFLOP/s ({peak['kernel']}, {peak['rows']}x384 @ 384x1536)"
                                  if "gflops" in peak else f"error: {peak.get('error')}"))
    for name, value in peaks["int8 candidates"].items():
        print(f"  int8 candidate {name}: " + (f"{value['gflops']:.1f} GFLOP/s ({value['rows']} rows)"
                                              if "gflops" in value else f"error: {value['error']}"))
    print(f"{'path':<38}{'pairs/s':>9}{'x ST fp32':>10}{'x ORT int8':>11}{'peak %':>8}{'max|diff|':>11}"
          f"{'spearman':>10}")
    for row in rows:
        if "error" in row:
            print(f"{row['path']:<38}  error: {row['error']}")
            continue
        share = row["share_of_peak"] * 100 if row.get("share_of_peak") is not None else None
        print(f"{row['path']:<38}{row['pairs_per_s']:>9.1f}{cell(row['x_st_fp32'], '.2f'):>10}"
              f"{cell(row['x_ort_int8'], '.2f'):>11}{cell(share, '.1f'):>8}"
              f"{cell(row.get('max_abs_diff'), '.4f'):>11}{cell(row.get('spearman'), '.4f'):>10}")
    result = {
        "benchmark": "rerank_vs_peers", "model": args.model or "minilm + seeded 1-logit head", "pairs": len(pairs),
        "rounds": args.rounds, "threads": args.threads, "max_length": MAX_LENGTH, "batch_size": BATCH,
        "mean_tokens_per_pair": mean_tokens, "linear_params": linear_params, "flop_per_pair": flop,
        "torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "machine": platform.processor() or platform.machine(), "reference_logit_std": reference_std, "peaks": peaks,
        "rows": [{k: v for k, v in row.items() if k != "scores"} for row in rows],
    }
    print(json.dumps(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
