"""Can a MiniLM cross-encoder student start where the bi-encoder is (DL19 0.64) instead of from a new head (0.43)?

The pair is read in one pass, "[CLS] query [SEP] [CLS] passage [SEP]", with positions restarting at the passage, as a
cross-encoder does, but attention from one segment to the other gets an additive bias per layer and head, a
learnable gate that starts at -10 (closed): at step 0 the two segments barely see each other and the score, the
cosine between the mean of each segment's output vectors times a learnable scale, is all-MiniLM-L6-v2's bi-encoder
score. Training on the label-free chain's groups (listwise KL towards the teacher over 16 of the 31 scored
candidates of each generated query: its source passage and 15 drawn each epoch) may open the gates, which makes it a cross-encoder, or leave them shut.

Cross-fitted as in labelfree-dl19: the student for fold k trains on chain-fold{k} (no passage of fold k's pools) and
re-ranks fold k's queries (BM25 top 100). All hyper-parameters are fixed here before any test score was seen; the
last epoch's scores are the result, earlier ones are a curve. Writes results.json here (per query, per fold).
Usage: python experiments/gated-cross-encoder-probe/probe.py [--folds 0 1] [--epochs 1] [--out results.json]
       python experiments/gated-cross-encoder-probe/probe.py --summarise [--out results.json]   (paired tests only)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from loralab.data.schemas import Ranking
from loralab.eval.metrics import per_query_ranking
from loralab.eval.statistics import paired_table
from loralab.models.backbones import resolve_backbone
from loralab.tasks.rerank.evaluate import load_task_dataset
from loralab.tasks.rerank.folds import fold_query_ids

HERE = Path(__file__).parent
CHAINS = HERE.parent / "labelfree-dl19"
QUERY_TOKENS, PASSAGE_TOKENS = 32, 224
GATE_INIT, GATE_LR, LR, SCALE_INIT = -10.0, 0.1, 2e-5, 20.0
TEACHER_SCALE, QUERIES_PER_STEP, EVAL_BATCH = 3.0, 4, 64
LIST_SIZE, MICRO_BATCH = 16, 16  # per query: its source passage and 15 of its other 30 candidates, drawn each epoch
NEG = -1e4  # additive mask for padding


class GatedPairEncoder(torch.nn.Module):
    def __init__(self, path: str):
        super().__init__()
        self.bert = AutoModel.from_pretrained(path, attn_implementation="eager")
        layers, heads = self.bert.config.num_hidden_layers, self.bert.config.num_attention_heads
        self.gates = torch.nn.Parameter(torch.full((layers, heads), GATE_INIT))
        self.log_scale = torch.nn.Parameter(torch.tensor(SCALE_INIT).log())
        self._masks: tuple[torch.Tensor, torch.Tensor] | None = None
        for i, layer in enumerate(self.bert.encoder.layer):
            layer.attention.self.register_forward_pre_hook(self._gate_hook(i), with_kwargs=True)

    def _gate_hook(self, i: int):
        def hook(module, args, kwargs):
            base, cross = self._masks
            kwargs["attention_mask"] = base + cross * self.gates[i].view(1, -1, 1, 1)
            return args, kwargs
        return hook

    def score(self, tokenizer, queries: list[str], passages: list[str], batch_size: int) -> torch.Tensor:
        """Scores in length-sorted micro-batches (no compute on most padding), returned in input order."""
        lengths = [len(p) for p in passages]
        order = sorted(range(len(passages)), key=lambda i: lengths[i])
        scores = [None] * len(passages)
        for s in range(0, len(order), batch_size):
            idx = order[s : s + batch_size]
            for i, value in zip(idx, self(pair_batch(tokenizer, [queries[i] for i in idx], [passages[i] for i in idx]))):
                scores[i] = value
        return torch.stack(scores)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        seg = batch["segment"]  # 1 query, 2 passage, 0 padding
        keys_ok = (seg > 0)[:, None, None, :]
        base = torch.where(keys_ok, 0.0, NEG).float()
        cross = ((seg[:, :, None] != seg[:, None, :]) & (seg[:, :, None] > 0) & keys_ok[:, 0]).float()[:, None]
        self._masks = (base, cross)
        try:
            hidden = self.bert(input_ids=batch["input_ids"], position_ids=batch["position_ids"],
                               token_type_ids=torch.zeros_like(seg), attention_mask=base).last_hidden_state
        finally:
            self._masks = None
        in_q = (seg == 1).unsqueeze(-1).float()
        in_d = (seg == 2).unsqueeze(-1).float()
        q = (hidden * in_q).sum(1) / in_q.sum(1)
        d = (hidden * in_d).sum(1) / in_d.sum(1)
        return self.log_scale.exp() * F.cosine_similarity(q, d)


def pair_batch(tokenizer, queries: list[str], passages: list[str]) -> dict[str, torch.Tensor]:
    q = tokenizer(queries, truncation=True, max_length=QUERY_TOKENS)["input_ids"]
    d = tokenizer(passages, truncation=True, max_length=PASSAGE_TOKENS)["input_ids"]
    width = max(len(a) + len(b) for a, b in zip(q, d))
    ids = torch.zeros(len(q), width, dtype=torch.long)
    pos, seg = torch.zeros_like(ids), torch.zeros_like(ids)
    for i, (a, b) in enumerate(zip(q, d)):
        n = len(a) + len(b)
        ids[i, :n] = torch.tensor(a + b)
        pos[i, :n] = torch.tensor(list(range(len(a))) + list(range(len(b))))
        seg[i, :n] = torch.tensor([1] * len(a) + [2] * len(b))
    return {"input_ids": ids, "position_ids": pos, "segment": seg}


def read_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt") as f:
        return [json.loads(line) for line in f]


def training_lists(fold: int, corpus) -> list[tuple[str, list[str], list[float]]]:
    chain = CHAINS / f"chain-fold{fold}"
    queries = {r["query_id"]: r["query"] for r in read_gz(chain / "generate" / "generate.jsonl.gz") if r["query"]}
    return [(queries[r["query_id"]], [corpus[d].full_text for d in r["docs"]], r["teacher"])
            for r in read_gz(chain / "score" / "score.jsonl.gz")]


@torch.no_grad()
def rerank(model, tokenizer, data, qids: list[str]) -> dict[str, float]:
    model.eval()
    run = {}
    for qid in qids:
        ids = [d for d, _ in data.candidates.ranked(qid, 100)]
        texts = [data.corpus[d].full_text for d in ids]
        run[qid] = dict(zip(ids, model.score(tokenizer, [data.queries[qid]] * len(ids), texts, EVAL_BATCH).tolist()))
    return per_query_ranking(Ranking(run), {q: data.qrels[q] for q in qids}, data.relevance_level)["ndcg@10"]


def run_fold(fold: int, epochs: int, data, path: str) -> dict:
    torch.manual_seed(fold)
    rng = random.Random(fold)
    tokenizer, model = AutoTokenizer.from_pretrained(path), GatedPairEncoder(path)
    qids = fold_query_ids(data, 2, fold)
    lists = training_lists(fold, data.corpus)
    optimizer = torch.optim.AdamW([
        {"params": model.bert.parameters(), "lr": LR, "weight_decay": 0.01},
        {"params": [model.gates, model.log_scale], "lr": GATE_LR, "weight_decay": 0.0},
    ])
    curve = [{"epoch": 0, "ndcg@10": rerank(model, tokenizer, data, qids)}]
    print(f"fold {fold} epoch 0: {sum(curve[0]['ndcg@10'].values()) / len(qids):.4f}", flush=True)
    began, losses = time.perf_counter(), []
    for epoch in range(1, epochs + 1):
        rng.shuffle(lists)
        model.train()
        for s in range(0, len(lists), QUERIES_PER_STEP):
            step_lists = []
            for query, docs, teacher in lists[s : s + QUERIES_PER_STEP]:
                keep = [0] + sorted(rng.sample(range(1, len(docs)), LIST_SIZE - 1))
                step_lists.append((query, [docs[i] for i in keep], [teacher[i] for i in keep]))
            queries = [q for q, docs, _ in step_lists for _ in docs]
            passages = [d for _, docs, _ in step_lists for d in docs]
            scores = model.score(tokenizer, queries, passages, MICRO_BATCH)
            loss, at = 0.0, 0
            for _, docs, teacher in step_lists:
                student = scores[at : at + len(docs)]
                target = F.softmax(torch.tensor(teacher) * TEACHER_SCALE, dim=-1)
                loss = loss + F.kl_div(F.log_softmax(student, -1), target, reduction="sum")
                at += len(docs)
            loss = loss / len(step_lists)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 4))
            if len(losses) % 10 == 0:
                print(f"  step {len(losses)}: loss {sum(losses[-10:]) / 10:.3f}, gates max "
                      f"{model.gates.max().item():.2f}, {time.perf_counter() - began:.0f} s", flush=True)
        gates = model.gates.detach()
        print(f"fold {fold} epoch {epoch}: loss {sum(losses[-20:]) / 20:.3f}, gates mean {gates.mean():.2f} "
              f"max {gates.max():.2f}, scale {model.log_scale.exp().item():.1f}, {time.perf_counter() - began:.0f} s",
              flush=True)
        curve.append({"epoch": epoch, "ndcg@10": rerank(model, tokenizer, data, qids),
                      "gates": gates.tolist(), "scale": model.log_scale.exp().item(),
                      "train_seconds": round(time.perf_counter() - began, 1)})
        print(f"fold {fold} epoch {epoch}: {sum(curve[-1]['ndcg@10'].values()) / len(qids):.4f}", flush=True)
    return {"queries": qids, "training_lists": len(lists), "losses": losses, "curve": curve}


def summarise(results: dict, data) -> None:
    """Cross-fitted rows (both folds' queries, 43) with intervals, and the last epoch against the rows it must beat:
    its own step 0 (the bi-encoder), BM25, the new-head student of labelfree-dl19, the teacher ensemble (Holm)."""
    per_epoch: dict[int, dict[str, float]] = {}
    for fold in results["folds"].values():
        for point in fold["curve"]:
            per_epoch.setdefault(point["epoch"], {}).update(point["ndcg@10"])
    epochs = sorted(e for e, v in per_epoch.items() if len(v) == len(data.qrels))
    rows = {f"gated student, epoch {e}" + (" (= MiniLM bi-encoder)" if e == 0 else ""): per_epoch[e] for e in epochs}
    rows["BM25 (Anserini run)"] = per_query_ranking(data.candidates, data.qrels, data.relevance_level)["ndcg@10"]
    old = json.loads((CHAINS / "results.json").read_text())["rows"]["student (cross-fitted)"]
    rows["new-head student (labelfree-dl19)"] = old["per_query_ndcg@10"]
    teacher = json.loads((HERE.parent / "teachers-zero-shot" / "dl19-ensemble" / "ensemble-metrics.json").read_text())
    rows["teacher: mpnet + SPLADE-tiny ensemble"] = teacher["per_example"]["ndcg@10"]
    last = f"gated student, epoch {epochs[-1]}"
    intervals, tests = paired_table(rows, [(last, b) for b in rows if b != last])
    results["cross_fitted"] = {name: vars(interval) for name, interval in intervals.items()}
    results["tests"] = [vars(t) for t in tests]
    for name, interval in results["cross_fitted"].items():
        print(f"{name:45s} {interval['mean']:.4f} [{interval['low']:.4f}, {interval['high']:.4f}]")
    for t in tests:
        print(f"  {t.a} - {t.b}: {t.mean_difference:+.4f}, p = {t.p_value:.4f} (Holm {t.p_adjusted:.4f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--summarise", action="store_true", help="only the paired tests, from --out")
    parser.add_argument("--out", default="results.json", help="results file in this folder (kept across runs)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    data = load_task_dataset("trec-dl-2019")
    path = resolve_backbone("minilm")
    out = HERE / args.out
    results = json.loads(out.read_text()) if out.exists() else {"folds": {}}
    for fold in [] if args.summarise else args.folds:
        results["folds"][str(fold)] = run_fold(fold, args.epochs, data, path)
        out.write_text(json.dumps(results, indent=1) + "\n")  # each fold kept as soon as it is done
    summarise(results, data)
    results["setup"] = {"query_tokens": QUERY_TOKENS, "passage_tokens": PASSAGE_TOKENS, "gate_init": GATE_INIT,
                        "gate_lr": GATE_LR, "lr": LR, "scale_init": SCALE_INIT, "teacher_scale": TEACHER_SCALE,
                        "queries_per_step": QUERIES_PER_STEP, "list_size": LIST_SIZE, "epochs": args.epochs}
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
