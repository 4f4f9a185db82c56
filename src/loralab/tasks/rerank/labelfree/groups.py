"""Step 4: keep the queries whose source passage the teacher ranks in its top `keep_top`; write training groups.

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

    queries = {r["query_id"]: r["query"] for r in step_folder(config, "mine").rows()}
    rows, ranks = [], Counter()
    for scored in step_folder(config, "score").rows():
        rank = source_rank(scored["teacher"])
        ranks[min(rank, config.keep_top + 1)] += 1
        if rank > config.keep_top or len(scored["docs"]) < config.negatives + 1:
            continue
        rng = random.Random(f"{config.seed}:{scored['query_id']}")
        picked = sorted(rng.sample(range(1, len(scored["docs"])), config.negatives))
        doc = lambda i: {"_id": scored["docs"][i], "text": corpus[scored["docs"][i]].full_text}  # noqa: E731
        rows.append({"query_id": scored["query_id"], "query": queries[scored["query_id"]], "positive": doc(0),
                     "negatives": [doc(i) for i in picked],
                     "teacher_scores": [scored["teacher"][i] for i in (0, *picked)]})
    summary = {"scored": sum(ranks.values()), "kept": len(rows),
               "source_rank": {("rank > %d" % config.keep_top if r > config.keep_top else f"rank {r}"): n
                               for r, n in sorted(ranks.items())}}
    step.finish(rows, summary)
    return summary
