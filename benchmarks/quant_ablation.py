"""Post-training quantization ablation of one cross-encoder re-ranker, every variant measured in this one run.

Each variant re-ranks the same queries in its own process (so peak RSS is its own) through `loralab compare`;
the table gives NDCG@10, the change in points, stored size and throughput as ratios to fp32. The full report
(report.md, quantization_ablation.md, charts) is written to --out. Usage:
  python benchmarks/quant_ablation.py --model runs/ce-lora [--dataset trec-dl-2019] [--limit 43] [--out reports/quant]
With a QLoRA run (--qlora RUN), also the paths for an adapter trained on a 4-bit base: as trained (adapter on
the NF4 base), dequantize -> merge (fp32), dequantize -> merge -> NF4, and a merge into the original fp32 weights.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

# Mixed precision: BERT's FFN output layers (their inputs carry the activation outliers) stay in fp32.
NAMED = {"int8-dynamic+ffn-out-fp32": r"int8-dynamic:keep_float=layer\.\d+\.output\.dense$",
         "int8-dynamic torchao+compile": "int8-dynamic:engine=torchao"}
VARIANTS = ["bf16", "int8-dynamic", "int8-dynamic+ffn-out-fp32", "int8-dynamic torchao+compile", "int8-static", "int8-weight-only", "int4-weight-only", "nf4"]


def methods_for(model: str, max_length: int, variants: list[str]) -> list[dict]:
    base = {"ranker": "cross-encoder", "model": model, "max_length": max_length}
    return [{"name": "fp32", **base}] + [{"name": v, **base, "quantize": NAMED.get(v, v)} for v in variants]


def qlora_paths(run: str, max_length: int, work: Path) -> list[dict]:
    """Rows for the 4-bit-trained adapter: folders written by the library, then re-ranked like any model."""
    from loralab.artifacts.quantized import save_quantized
    from loralab.artifacts.merge import merged
    from loralab.quant.prepare import quantize_for_inference

    from loralab.artifacts.atomic import save_pretrained_atomically

    rows = [{"name": "QLoRA as trained (adapter on NF4 base)", "ranker": "cross-encoder", "model": run}]
    paths = (("dequantize -> merge (fp32)", "dequantized", None), ("dequantize -> merge -> NF4", "dequantized", "nf4"),
             ("original fp32 -> merge -> NF4", "original", "nf4"))
    for i, (label, merge_base, quant) in enumerate(paths):
        loaded = merged(run, merge_base)
        if quant is None:
            folder = save_pretrained_atomically(loaded.model, loaded.tokenizer, work / f"path{i}")
        else:
            loaded.model = quantize_for_inference(loaded.model, loaded.tokenizer, quant)
            folder = save_quantized(loaded, work / f"path{i}")
        rows.append({"name": f"QLoRA {label}", "ranker": "cross-encoder", "model": str(folder)})
    return [{**r, "max_length": max_length} for r in rows]


def main() -> None:
    from loralab.compare.ablation import ablation_rows
    from loralab.compare.engine import run_compare
    from loralab.compare.config import CompareConfig
    from loralab.compare.report import write_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="runs/ce-lora", help="cross-encoder: trained run folder or model folder")
    parser.add_argument("--dataset", default="trec-dl-2019")
    parser.add_argument("--limit", type=int, default=None, help="first N queries")
    parser.add_argument("--limit-candidates", type=int, default=None, help="top N candidates per query")
    parser.add_argument("--max-length", type=int, default=192)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--qlora", default=None, help="a QLoRA run folder: also measure its merge/requantize paths")
    parser.add_argument("--out", default="reports/quant-ablation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        methods = methods_for(args.model, args.max_length, [v for v in args.variants.split(",") if v])
        if args.qlora:
            methods += qlora_paths(args.qlora, args.max_length, Path(work))
        config = CompareConfig.model_validate({
            "dataset": args.dataset, "methods": methods, "limit_queries": args.limit,
            "limit_candidates": args.limit_candidates,
            "title": f"Quantization ablation: {args.model} on {args.dataset}",
        })
        rows = run_compare(config, Path(args.out))
        write_report(config, rows, Path(args.out))
    entries = ablation_rows(rows)
    print(f"{'variant':<27}{'NDCG@10':>9}{'Δ pts':>8}{'size MB':>9}{'size ×':>8}{'pairs/s':>9}{'speed ×':>9}")
    for e in entries:
        size = f"{e['size_mb']:9.1f}{e['size_ratio']:8.3f}" if e["size_ratio"] else f"{'—':>9}{'—':>8}"
        print(f"{e['method']:<27}{e['ndcg@10']:9.4f}{e['delta_points']:+8.2f}{size}"
              f"{e['pairs_per_s']:9.1f}{e['speedup']:9.2f}")
    others = [r for r in rows if r["method"].startswith("QLoRA")]
    for r in others:
        print(f"{r['method']:<44}{r['ndcg@10']:9.4f}{(r.get('size_mb') or 0):9.1f} MB")
    print(json.dumps({"ablation": entries, "qlora_paths": [{k: r.get(k) for k in ("method", "ndcg@10", "size_mb")}
                                                         for r in others]}))


if __name__ == "__main__":
    main()
