"""Does a MiniLM cross-encoder already know relevance before training? all-MiniLM-L6-v2 reads each DL19 (query,
passage) pair in one pass, as a cross-encoder does; the score is the cosine between the mean of the query
segment's and of the passage segment's output vectors, the bi-encoder's pooling applied inside the joint pass.
If that scores near the bi-encoder's 0.6424, a cross-encoder student could start from it instead of a new head.
Variants: token type ids as BERT makes them (passage = 1, an embedding all-MiniLM never trained) or all 0.
Writes results.json here. Usage: python experiments/segment-pooling-probe/probe.py"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from transformers import AutoModel, AutoTokenizer

from loralab.data.schemas import Ranking
from loralab.eval.metrics import per_query_ranking
from loralab.eval.statistics import bootstrap_interval
from loralab.models.backbones import resolve_backbone
from loralab.tasks.rerank.evaluate import load_task_dataset

HERE = Path(__file__).parent
MAX_LENGTH, BATCH = 256, 32


@torch.inference_mode()
def joint_scores(model, tokenizer, query: str, docs: list[str], zero_types: bool) -> list[float]:
    out = []
    for start in range(0, len(docs), BATCH):
        chunk = docs[start : start + BATCH]
        batch = tokenizer([query] * len(chunk), chunk, truncation="only_second", max_length=MAX_LENGTH,
                          padding=True, return_tensors="pt")
        types = batch["token_type_ids"]
        if zero_types:
            batch["token_type_ids"] = torch.zeros_like(types)
        hidden = model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        in_query = (types == 0).unsqueeze(-1).float() * mask
        in_doc = (types == 1).unsqueeze(-1).float() * mask
        q = (hidden * in_query).sum(1) / in_query.sum(1)
        d = (hidden * in_doc).sum(1) / in_doc.sum(1)
        out += F.cosine_similarity(q, d).tolist()
    return out


def main() -> None:
    torch.manual_seed(0)
    data = load_task_dataset("trec-dl-2019")
    path = resolve_backbone("minilm")
    tokenizer, model = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()
    results = {}
    for name, zero_types in (("joint pass, passage token type 1", False), ("joint pass, token types 0", True)):
        began, run = time.perf_counter(), {}
        for qid, query in data.queries.items():
            ids = [d for d, _ in data.candidates.ranked(qid, 100)]
            scores = joint_scores(model, tokenizer, query, [data.corpus[d].full_text for d in ids], zero_types)
            run[qid] = dict(zip(ids, scores))
        per_query = per_query_ranking(Ranking(run), data.qrels, data.relevance_level)["ndcg@10"]
        results[name] = {"ndcg@10": vars(bootstrap_interval(per_query)), "seconds": round(time.perf_counter() - began, 1),
                         "per_query": per_query}
        print(name, bootstrap_interval(per_query))
    (HERE / "results.json").write_text(json.dumps({"dataset": "trec-dl-2019 (43 queries, BM25 top-100)",
                                                   "model": "minilm (all-MiniLM-L6-v2)", "max_length": MAX_LENGTH,
                                                   "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
