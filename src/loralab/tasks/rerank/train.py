"""Re-ranker training data and losses: groups of (query, positive, hard negatives).

Listwise: softmax cross-entropy over one positive and its negatives (the positive is index 0).
Pointwise: binary cross-entropy on each (query, document) pair.
With a teacher (a bi-encoder named by `--teacher`, or scores stored in the groups file as `teacher_scores`, as
the label-free chain writes them), the listwise loss adds a KL term towards the teacher's softmax over the same
group: soft targets rank every negative, not only the positive, which matters with ~900 training groups.
Margin-MSE (Hofstätter et al., 2020) instead matches the student's score margins positive - negative to the
teacher's: no temperature to tune, and a false negative the teacher scores high is not pushed down.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from loralab.data.beir import load_beir
from loralab.data.jsonl import iter_jsonl, require_str
from loralab.data.registry import get_spec
from loralab.methods.configs import TrainConfig
from loralab.tasks.training_task import TrainingTask
from loralab.errors import DataError


@dataclass
class TrainGroup:
    query_id: str
    query: str
    positive: str
    negatives: list[str]
    # BM25 scores of [positive, *negatives] when the groups were mined from a BEIR folder (a hybrid teacher's input)
    first_stage: list[float] | None = None
    # a teacher's scores of [positive, *negatives], stored with the group (label-free chain)
    teacher: list[float] | None = None


def _doc_text(value, path: Path, lineno: int, field: str) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict) and isinstance(value.get("text"), str) and isinstance(value.get("title") or "", str):
        text = f"{value.get('title') or ''} {value['text']}".strip()
        if text:
            return text
    raise DataError(f"{path}:{lineno}: field '{field}' must be a non-empty string "
                    "or an object with a string 'text' (and optional string 'title')")


def read_groups_jsonl(path: Path) -> list[TrainGroup]:
    """Rows {query, positive, negatives[, query_id]}; documents are strings or {_id, title, text}."""
    groups = []
    for lineno, row in iter_jsonl(path):
        negatives = row.get("negatives")
        if not isinstance(negatives, list) or not negatives:
            raise DataError(f"{path}:{lineno}: field 'negatives' must be a non-empty list")
        teacher = row.get("teacher_scores")
        if teacher is not None and (
            not isinstance(teacher, list) or len(teacher) != len(negatives) + 1
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in teacher)
        ):
            raise DataError(f"{path}:{lineno}: field 'teacher_scores' must be {len(negatives) + 1} finite numbers "
                            "(the positive's, then each negative's)")
        groups.append(
            TrainGroup(
                query_id=str(row.get("query_id", lineno)),
                query=require_str(row, "query", path, lineno),
                positive=_doc_text(row.get("positive"), path, lineno, "positive"),
                negatives=[_doc_text(n, path, lineno, f"negatives[{i}]") for i, n in enumerate(negatives)],
                teacher=[float(x) for x in teacher] if teacher is not None else None,
            )
        )
    if not groups:
        raise DataError(f"{path}: no training groups")
    scored = sum(g.teacher is not None for g in groups)
    if 0 < scored < len(groups):
        raise DataError(f"{path}: {scored} of {len(groups)} groups have 'teacher_scores'; give them to all or none")
    return groups


def groups_from_beir(folder: Path, split: str = "train", num_negatives: int = 8, negative_pool: int | None = None,
                     seed: int = 42) -> list[TrainGroup]:
    """Positives from the split's qrels; negatives are BM25's top non-relevant documents, or with
    `negative_pool`, a seeded sample of BM25's top-`negative_pool` non-relevant ones: a re-ranker of the top 100
    sees easy candidates too, which the hardest few alone never show it."""
    from loralab.retrieval.bm25 import BM25Config, BM25Index, bm25_tokens

    corpus, queries, qrels = load_beir(folder, split)
    depth = max(negative_pool or 0, num_negatives + 20)
    config, doc_ids = BM25Config(), list(corpus)
    index = BM25Index.build(config, doc_ids, bm25_tokens([corpus[d].full_text for d in doc_ids], config))
    ranking = index.search(queries, k=depth)
    rng = random.Random(seed)
    chosen = []  # (query id, positive id, negative ids)
    for qid, judged in qrels.items():
        pool = [d for d, _ in ranking.ranked(qid) if judged.get(d, 0) <= 0]
        if negative_pool:
            candidates = pool[:negative_pool]
            negatives = rng.sample(candidates, min(num_negatives, len(candidates)))
        else:
            negatives = pool[:num_negatives]
        chosen += [(qid, d, negatives) for d, grade in judged.items() if grade > 0 and d in corpus and negatives]
    wanted: dict[str, list[str]] = {}
    for qid, positive, negatives in chosen:
        wanted.setdefault(qid, []).extend([positive, *negatives])
    scores = index.scores_of(queries, wanted)
    return [
        TrainGroup(qid, queries[qid], corpus[positive].full_text, [corpus[d].full_text for d in negatives],
                   first_stage=[scores[qid][d] for d in (positive, *negatives)])
        for qid, positive, negatives in chosen
    ]


def load_training_groups(spec: str, num_negatives: int = 8, negative_pool: int | None = None,
                         seed: int = 42) -> list[TrainGroup]:
    """A registered training set (e.g. scifact-train), a groups JSONL file, or a BEIR folder with train qrels."""
    path = Path(spec)
    folder = None
    if not path.exists():
        registered = get_spec(spec)
        if registered.kind != "train":
            folder = registered.folder
        else:
            path = next(iter(sorted(registered.folder.glob("*.jsonl*"))))
    elif path.is_dir():
        folder = path
    if folder is not None:
        return groups_from_beir(folder, num_negatives=num_negatives, negative_pool=negative_pool, seed=seed)
    if negative_pool:
        raise DataError(f"{spec}: negatives are fixed in a groups file; --negative-pool needs a BEIR folder "
                        "(corpus + train qrels), e.g. the scifact dataset")
    return read_groups_jsonl(path)


def split_by_query(groups: list[TrainGroup], eval_fraction: float, seed: int) -> tuple[list, list]:
    """Hold out whole queries, so no query is in both training and evaluation."""
    qids = sorted({g.query_id for g in groups})
    random.Random(seed).shuffle(qids)
    held = set(qids[: int(round(len(qids) * eval_fraction))])
    return [g for g in groups if g.query_id not in held], [g for g in groups if g.query_id in held]


def teacher_scores(groups: list[TrainGroup], num_negatives: int, teacher: str, max_length: int) -> list[list[float]]:
    """The teacher bi-encoder's cosine for each group's positive and first `num_negatives` negatives."""
    from loralab.rankers.bi_encoder import BiEncoderConfig, BiEncoderRanker

    ranker = BiEncoderRanker(BiEncoderConfig(model=teacher, max_length=max_length))

    def embed(texts):  # each distinct text once: queries with several positives share their negatives
        unique = list(dict.fromkeys(texts))
        return dict(zip(unique, ranker.encode(unique, show_progress=True)))

    docs_of = [[g.positive, *g.negatives[:num_negatives]] for g in groups]
    queries = embed(g.query for g in groups)
    docs = embed(t for texts in docs_of for t in texts)
    return [[float(queries[g.query] @ docs[t]) for t in texts] for g, texts in zip(groups, docs_of)]


def hybrid_teacher(cosines: list[float], bm25: list[float], bm25_weight: float) -> list[float]:
    """The teacher's cosines fused with BM25 over one group, as `--fusion weighted` fuses rankings:
    (1 - w) x min-max(cosine) + w x min-max(BM25). The fused score is mapped back onto the group's cosine range,
    so the softmax temperature (cosine x 20) keeps the dense teacher's sharpness while the order is the hybrid's.
    On SciFact test the weighted hybrid scores NDCG@10 0.7349 vs BM25 0.6863 and dense 0.6572."""
    from loralab.retrieval.hybrid import min_max

    dense = min_max(dict(enumerate(cosines)))
    sparse = min_max(dict(enumerate(bm25)))
    low, high = min(cosines), max(cosines)
    return [low + ((1 - bm25_weight) * dense[i] + bm25_weight * sparse[i]) * (high - low) for i in range(len(cosines))]


class GroupDataset(torch.utils.data.Dataset):
    def __init__(self, groups: list[TrainGroup], num_negatives: int, teacher: str | None = None,
                 teacher_max_length: int = 256, teacher_bm25_weight: float = 0.0):
        self.groups = [g for g in groups if len(g.negatives) >= num_negatives]
        if not self.groups:
            raise DataError(f"no training group has {num_negatives} negatives; lower num_negatives")
        self.num_negatives = num_negatives
        stored = self.groups[0].teacher is not None
        if stored and teacher:
            raise DataError(f"the groups already carry teacher scores ('teacher_scores'); drop --teacher {teacher}")
        if stored:
            self.teacher = [g.teacher[: num_negatives + 1] for g in self.groups]
        else:
            self.teacher = teacher_scores(self.groups, num_negatives, teacher, teacher_max_length) if teacher else None
        if self.teacher is not None and teacher_bm25_weight > 0:
            if any(g.first_stage is None for g in self.groups):
                raise DataError("a hybrid teacher (--teacher-bm25-weight) needs BM25 scores for each group: train "
                                "from a BEIR folder with train qrels (e.g. --data scifact), not a groups file")
            self.teacher = [hybrid_teacher(cos, g.first_stage[: len(cos)], teacher_bm25_weight)
                            for cos, g in zip(self.teacher, self.groups)]
        # Character length of the longest document stands in for token length in length-grouped sampling.
        self.lengths = [max(len(g.positive), *(len(n) for n in g.negatives[:num_negatives])) for g in self.groups]

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i: int) -> dict:
        g = self.groups[i]
        item = {"query": g.query, "docs": [g.positive, *g.negatives[: self.num_negatives]]}
        if self.teacher is not None:
            item["teacher"] = self.teacher[i]
        return item


def group_labels(items: list[dict]) -> torch.Tensor:
    """The positive's index per group (0), or with a teacher, the teacher's scores [groups, docs] (float)."""
    if all("teacher" in item for item in items):
        return torch.tensor([item["teacher"] for item in items], dtype=torch.float32)
    return torch.zeros(len(items), dtype=torch.long)


@dataclass
class GroupCollator:
    """Tokenizes each group's (query, doc) pairs with dynamic padding (to a multiple of `pad_to_multiple_of`
    tokens, at most `max_length`); the positive is always index 0. Labels: `group_labels`."""

    tokenizer: object
    max_length: int
    pad_to_multiple_of: int = 1

    def tokenize(self, texts: list[str], pairs: list[str] | None = None) -> dict[str, torch.Tensor]:
        batch = self.tokenizer(texts, pairs, truncation=True, max_length=self.max_length, padding=True,
                               return_tensors="pt", pad_to_multiple_of=self.pad_to_multiple_of)
        if batch["input_ids"].shape[1] > self.max_length:  # a max_length that is not a multiple: cut the padding
            batch = {k: v[:, :self.max_length] for k, v in batch.items()}
        return dict(batch)

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        queries = [item["query"] for item in items for _ in item["docs"]]
        docs = [doc for item in items for doc in item["docs"]]
        return self.tokenize(queries, docs) | {"labels": group_labels(items)}


class BiEncoderGroupCollator(GroupCollator):
    """Each group's query once and its documents apart (`models.pair_encoder.PairEncoder` takes both)."""

    def __call__(self, items: list[dict]) -> dict[str, torch.Tensor]:
        queries = self.tokenize([item["query"] for item in items])
        docs = self.tokenize([doc for item in items for doc in item["docs"]])
        return docs | {f"query_{k}": v for k, v in queries.items()} | {"labels": group_labels(items)}


def group_loss(logits: torch.Tensor, labels: torch.Tensor, loss: str, distill_weight: float = 1.0,
               teacher_scale: float = 20.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss, logits reshaped to [groups, 1 + negatives]).

    Float `labels` are a teacher's scores. Listwise: KL(teacher || student) over each group is added, weighted by
    `distill_weight`; `teacher_scale` turns cosines into logits (20, as in the MultipleNegativesRanking loss
    that trained all-MiniLM). Margin-MSE: mean squared error between the student's and the teacher's margins
    (positive minus each negative)."""
    grouped = logits.reshape(labels.shape[0], -1)
    positives = torch.zeros(labels.shape[0], dtype=torch.long, device=labels.device)
    if loss == "margin-mse":
        if not labels.is_floating_point():
            raise DataError("margin-mse needs a teacher's scores: --teacher MODEL, or 'teacher_scores' in the groups file")
        student, teacher = grouped[:, :1] - grouped[:, 1:], labels[:, :1] - labels[:, 1:]
        return F.mse_loss(student.float(), teacher), grouped
    if labels.is_floating_point():
        if loss != "listwise":
            raise ValueError("a teacher needs the listwise or margin-mse loss")
        log_student = F.log_softmax(grouped, dim=-1)
        target = F.softmax(labels * teacher_scale, dim=-1)
        kl = F.kl_div(log_student, target, reduction="batchmean")
        return F.cross_entropy(grouped, positives) + distill_weight * kl, grouped
    if loss == "listwise":
        return F.cross_entropy(grouped, labels), grouped
    targets = torch.zeros_like(grouped)
    targets[:, 0] = 1.0
    return F.binary_cross_entropy_with_logits(grouped, targets), grouped


def group_metrics(eval_pred) -> dict[str, float]:
    """MRR and accuracy@1 of the positive among its group (a cheap proxy for NDCG during training)."""
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    ranks = (logits > logits[:, :1]).sum(axis=1) + 1
    return {"mrr": float(np.mean(1.0 / ranks)), "accuracy": float(np.mean(ranks == 1))}


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    groups = load_training_groups(cfg.data, max(cfg.rerank.num_negatives, 8), cfg.rerank.negative_pool, cfg.seed)
    train, held = split_by_query(groups, cfg.eval_fraction, cfg.seed)
    train = train[: cfg.max_train_examples] if cfg.max_train_examples else train
    fused = f" fused with BM25 x{cfg.rerank.teacher_bm25_weight:g}" if cfg.rerank.teacher_bm25_weight else ""
    distilling = f", distilling {cfg.rerank.teacher}{fused}, weight {cfg.rerank.distill_weight:g}" if cfg.rerank.teacher else ""
    if train and train[0].teacher is not None:
        distilling = ", distilling the groups' teacher_scores"
    elif cfg.rerank.loss == "margin-mse" and not cfg.rerank.teacher:
        raise DataError(f"{cfg.data}: margin-mse needs a teacher's scores: --teacher MODEL, or 'teacher_scores' "
                        "in the groups file (loralab labelfree writes them)")
    bi_encoder = cfg.rerank.ranker == "bi-encoder"
    return TrainingTask(
        num_labels=1,
        train_dataset=GroupDataset(train, cfg.rerank.num_negatives, cfg.rerank.teacher, cfg.max_length, cfg.rerank.teacher_bm25_weight),
        eval_dataset=GroupDataset(held[: cfg.max_eval_examples], cfg.rerank.num_negatives),
        collator=(BiEncoderGroupCollator if bi_encoder else GroupCollator)(tokenizer, cfg.max_length,
                                                                           cfg.pad_to_multiple_of),
        compute_metrics=group_metrics,
        metric_for_best="mrr",
        loss=lambda logits, labels: group_loss(logits, labels, cfg.rerank.loss, cfg.rerank.distill_weight,
                                               cfg.rerank.teacher_scale),
        build_model=build_bi_encoder if bi_encoder else None,
        save_artifact=save_encoder if bi_encoder else None,
        description=f"{'bi-encoder, ' if bi_encoder else ''}{len(train)} training groups, "
        f"{min(len(held), cfg.max_eval_examples)} held-out groups "
        f"(1 positive + {cfg.rerank.num_negatives} negatives, {cfg.rerank.loss} loss{distilling})",
    )


def build_bi_encoder(backbone: str, method, gradient_checkpointing: bool):
    from loralab.methods.model_setup import build_encoder_model
    from loralab.models.pair_encoder import PairEncoder

    return build_encoder_model(backbone, method, gradient_checkpointing, PairEncoder)


def save_encoder(model, tokenizer, method, out: Path) -> Path:
    """The encoder alone, as adapter/ or model/: what a bi-encoder ranker loads."""
    from loralab.artifacts.atomic import save_artifact

    return save_artifact(model.encoder, tokenizer, method, out)
