"""Probe: does SmoothQuant-style smoothing remove the int8-dynamic loss on SciFact while keeping torch.ao's fast
per-batch activation scales? int8-dynamic loses 4.6 points on the QAT ablation's starting model even with
per-channel weights (per_channel.json): one activation scale per batch is set by a few outlier channels.
Smoothing (Xiao et al., 2023) divides each input channel of a linear layer by s_j = max|X_j|^a / max|W_:,j|^(1-a)
and multiplies the weight's column j by s_j, an identity in float that moves the outliers into the weights, which
have one scale per row. BERT is post-LayerNorm (the LayerNorm output is also the residual stream), so the
division cannot be folded into the LayerNorm as in pre-LN LLMs: here it is an explicit per-channel multiply
before each quantized linear. Scales come from 64 SciFact *training* pairs (loralab's calibration default).

Scored like per_channel.py (SciFact test, 300 claims, bm25s top 30, max length 192), paired against the float
rows stored in results.json. Writes smooth_probe.json here.
Usage: python experiments/qat-scifact/smooth_probe.py [MODEL=STORED_FLOAT_ROW ...] [--alphas 0.5 0.8] [--baselines]
(default merged/qat-base=fp32). --baselines adds fp32 and unsmoothed per-channel int8 rows, timed in the same run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from loralab.eval.metrics import per_query_ranking
from loralab.quant.backends.torch_dynamic import quantize_layers
from loralab.eval.statistics import bootstrap_interval, paired_randomization_test
from loralab.quant.calibration import calibration_batches
from loralab.quant.linears import quantizable_linears
from loralab.quant.smoothing import smooth_linears
from loralab.rankers.cross_encoder import CrossEncoderConfig, CrossEncoderRanker
from loralab.rankers.rerank import rerank_dataset
from loralab.tasks.rerank.evaluate import load_task_dataset

HERE = Path(__file__).parent
MAX_LENGTH = 192


@torch.no_grad()
def smooth_and_quantize(model, tokenizer, alpha: float, smooth: bool = True):
    """The library's smoothing (quant/smoothing.py, which this probe's first version became) + per-channel int8."""
    names = [name for name, _ in quantizable_linears(model)]
    if smooth:
        names = smooth_linears(model, names, alpha, calibration_batches(tokenizer, n=64, max_length=MAX_LENGTH))
    return quantize_layers(model, names, per_channel=True)


def variant(ranker: CrossEncoderRanker, alpha: float | None):
    """alpha None: unsmoothed per-channel int8-dynamic; alpha < 0: the float model as loaded."""
    if alpha is None:
        return smooth_and_quantize(ranker.model, ranker.tokenizer, 0.0, smooth=False)
    return ranker.model if alpha < 0 else smooth_and_quantize(ranker.model, ranker.tokenizer, alpha)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("models", nargs="*", default=["merged/qat-base=fp32"])
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.5, 0.8])
    parser.add_argument("--baselines", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(2)
    stored = json.loads((HERE / "results.json").read_text())["per_query_ndcg@10"]
    data = load_task_dataset("scifact", max_queries=300, max_candidates=30)
    out = HERE / "smooth_probe.json"
    rows = json.loads(out.read_text())["rows"] if out.exists() else {}
    for arg in args.models:
        model_path, _, float_row = arg.partition("=")
        for alpha in ([-1.0, None] if args.baselines else []) + args.alphas:
            ranker = CrossEncoderRanker(CrossEncoderConfig(model=model_path, max_length=MAX_LENGTH))
            ranker.model = variant(ranker, alpha).eval()
            began = time.perf_counter()
            ranking, latency = rerank_dataset(ranker, data, show_progress=False)
            per_query = per_query_ranking(ranking, data.qrels, data.relevance_level)["ndcg@10"]
            name = (f"{float_row}, timed again" if alpha is not None and alpha < 0 else
                    f"{float_row} + int8-dynamic:per_channel=true"
                    + ("" if alpha is None else f", smoothed (alpha {alpha})"))
            test = paired_randomization_test(per_query, stored[float_row], name, float_row)
            interval = bootstrap_interval(per_query)
            rows[name] = {"model": model_path, "alpha": alpha, "ndcg@10": interval.mean,
                          "ci95": [interval.low, interval.high], "vs_float": vars(test),
                          "pairs_per_s": latency.pairs_per_second, "seconds": round(time.perf_counter() - began, 1),
                          "baselines_in_same_run": args.baselines, "per_query_ndcg@10": per_query}
            print(f"{name}: {interval}; vs {float_row}: {test.mean_difference:+.4f} (p = {test.p_value:.3f}), "
                  f"{latency.pairs_per_second:.1f} pairs/s", flush=True)
            out.write_text(json.dumps({"data": "SciFact test, 300 claims, bm25s top 30, max length 192",
                                       "calibration": "64 SciFact training pairs (loralab default)", "rows": rows},
                                      indent=1) + "\n")


if __name__ == "__main__":
    main()
