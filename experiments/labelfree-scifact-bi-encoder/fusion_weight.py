"""The fusion weight chosen without the test claims: each student re-ranks the BM25 top-100 (bm25s) of the training
claims it never trained on (the 10% `loralab train` held out: `split_by_query` with the run's seed and
eval_fraction), then student and BM25 scores are blended at each weight (min-max per claim, as `--interpolate`) and
the weight with the best NDCG@10 on those claims is the one to use on the test claims.
Usage: python experiments/labelfree-scifact-bi-encoder/fusion_weight.py RUN [RUN ...] --out FILE"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from loralab.data.registry import BUILTIN_DIR, load_rerank_dataset
from loralab.eval.metrics import evaluate_ranking
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.rankers.rerank import rerank_dataset
from loralab.retrieval.bm25 import with_bm25_candidates
from loralab.retrieval.hybrid import weighted_fusion
from loralab.tasks.rerank.folds import restrict
from loralab.tasks.rerank.train import load_training_groups, split_by_query

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]  # 0: BM25 alone, 1: the student alone


def held_out_claims(run: Path) -> list[str]:
    train = json.loads((run / "train_config.json").read_text())["train"]
    groups = load_training_groups(train["data"], 8, None, train["seed"])
    _, held = split_by_query(groups, train["eval_fraction"], train["seed"])
    return sorted({g.query_id.removeprefix("log-") for g in held})  # the chain names a logged claim log-<id>


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("runs", type=Path, nargs="+", help="bi-encoder run folders trained on the chain's groups")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    train_split = load_rerank_dataset(BUILTIN_DIR / "beir-scifact", split="train")
    out, candidates = {}, {}  # runs with the same seed and eval_fraction hold out the same claims: BM25 once
    for run in args.runs:
        claims = held_out_claims(run)
        if tuple(claims) not in candidates:
            candidates[tuple(claims)] = with_bm25_candidates(restrict(train_split, claims))
        data = candidates[tuple(claims)]
        ranking, _ = rerank_dataset(build_ranker(ranker_config("bi-encoder", model=str(run), max_length=256)), data,
                                    show_progress=False)
        ndcg = {w: evaluate_ranking(weighted_fusion(ranking, data.candidates, alpha=w), data.qrels).values["ndcg@10"]
                for w in WEIGHTS}
        best = max(WEIGHTS, key=lambda w: (ndcg[w], -abs(w - 0.5)))  # ties: the weight nearest 0.5
        out[str(run)] = {"held_out_claims": len(claims), "ndcg@10_by_weight": ndcg, "chosen_weight": best}
        print(run, len(claims), "claims:", " ".join(f"{w}:{v:.4f}" for w, v in ndcg.items()), "-> chosen", best)
    args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
