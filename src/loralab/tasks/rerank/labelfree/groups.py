"""Step 4: keep the queries whose source passage the teacher ranks in its top `keep_top`; write training groups.
A log query (no source passage) is always kept, with the teacher's top candidate as its positive; a judged log
query (`query_log.qrels`) is always kept, with its relevant document as the positive.

A kept query becomes one group: the source passage as positive, `negatives` candidates drawn (seeded, in
mining order) from its BM25 and dense candidates, and the teacher's score of each. Soft scores matter here: a
candidate that really answers the query scores high, so Margin-MSE does not punish the student for ranking it up.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from loralab.data.schemas import Document
from loralab.tasks.rerank.labelfree.config import ChainConfig
from loralab.tasks.rerank.labelfree.steps import StepFolder


def source_rank(teacher: list[float]) -> int:
    """1-based rank of the source passage (index 0) under the teacher; ties count in its favour."""
    return 1 + sum(score > teacher[0] for score in teacher[1:])


def make_groups(config: ChainConfig, corpus: dict[str, Document], step: StepFolder) -> dict[str, Any]:
    from loralab.tasks.rerank.labelfree.chain import step_folder

    mined = {r["query_id"]: r for r in step_folder(config, "mine").rows()}
    rows, ranks = [], Counter()
    for scored in step_folder(config, "score").rows():
        teacher, docs = scored["teacher"], scored["docs"]
        if mined[scored["query_id"]]["passage_id"] is None:
            # a log query has no source: its positive is the teacher's top candidate (the margins carry the rest)
            positive = max(range(len(docs)), key=teacher.__getitem__)
            ranks["log query"] += 1
        elif "relevant" in mined[scored["query_id"]]:
            positive = 0  # a judged relevant document: the label, whatever the teacher thinks of it
            ranks["judged query"] += 1
        else:
            positive, rank = 0, source_rank(teacher)
            ranks[f"rank {rank}" if rank <= config.keep_top else f"rank > {config.keep_top}"] += 1
            if rank > config.keep_top:
                continue
        if len(docs) < config.negatives + 1:
            continue
        rng = random.Random(f"{config.seed}:{scored['query_id']}")
        picked = sorted(rng.sample([i for i in range(len(docs)) if i != positive], config.negatives))
        doc = lambda i: {"_id": docs[i], "text": corpus[docs[i]].full_text}  # noqa: E731
        rows.append({"query_id": scored["query_id"], "query": mined[scored["query_id"]]["query"],
                     "positive": doc(positive), "negatives": [doc(i) for i in picked],
                     "teacher_scores": [teacher[i] for i in (positive, *picked)]})
    summary = {"scored": sum(ranks.values()), "kept": len(rows), "source_rank": dict(sorted(ranks.items()))}
    step.finish(rows, summary)
    return summary
