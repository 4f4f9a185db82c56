"""Step 3: a teacher scores each query's source passage and candidates; an ensemble's members are kept apart.

Any ranker spec can teach. Members score a batch of queries at a time through `score_pairs` where they have it
(every distinct query encoded once, pairs length-sorted across queries), and their raw scores are stored beside
the ensemble's, so another weighting needs no rescoring.
"""

from __future__ import annotations

import time
from typing import Any

from loralab.data.schemas import Document
from loralab.progress import report
from loralab.rankers.ensemble import EnsembleConfig, combine
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.tasks.rerank.labelfree.config import ChainConfig
from loralab.tasks.rerank.labelfree.steps import StepFolder


def teacher_members(teacher: dict[str, Any]) -> tuple[list[str], list, list[float] | None, str | None]:
    """(member names, member ranker configs, weights, calibration); a single ranker is one member with no
    calibration. Unknown options fail here, before any model loads."""
    config = ranker_config(teacher["ranker"], **{k: v for k, v in teacher.items() if k != "ranker"})
    if not isinstance(config, EnsembleConfig):
        return [member_name(teacher)], [config], None, None
    return [member_name(m) for m in config.members], config.member_configs(), config.weights, config.calibration


def member_name(spec: dict[str, Any]) -> str:
    return f"{spec['ranker']}:{spec.get('model', '')}".rstrip(":")


def _score(ranker, queries: list[str], docs: list[list[Document]]) -> list[list[float]]:
    if hasattr(ranker, "score_pairs"):
        flat = ranker.score_pairs([q for q, ds in zip(queries, docs) for _ in ds], [d for ds in docs for d in ds])
        out, start = [], 0
        for ds in docs:
            out.append(flat[start : start + len(ds)])
            start += len(ds)
        return out
    return [ranker.score(q, ds) for q, ds in zip(queries, docs)]


def score_candidates(config: ChainConfig, corpus: dict[str, Document], step: StepFolder) -> dict[str, Any]:
    from loralab.tasks.rerank.labelfree.chain import step_folder

    names, configs, weights, calibration = teacher_members(config.teacher)
    mined = step_folder(config, "mine").rows()
    rows = step.resume([m["query_id"] for m in mined], "query_id")
    resumed = len(rows)
    done = {r["query_id"] for r in rows}
    todo = [m for m in mined if m["query_id"] not in done]
    rankers = [build_ranker(c) for c in configs] if todo else []
    for start in range(0, len(todo), config.teacher_batch):
        report(len(done) + start, len(mined), "query")
        chunk = todo[start : start + config.teacher_batch]
        ids = [[m["passage_id"], *m["candidates"]] if m["passage_id"] else m["candidates"] for m in chunk]
        docs = [[corpus[d] for d in row] for row in ids]
        began = time.perf_counter()
        scores = [_score(r, [m["query"] for m in chunk], docs) for r in rankers]
        seconds = (time.perf_counter() - began) / len(chunk)
        new = []
        for i, m in enumerate(chunk):
            members = {name: [round(float(x), 6) for x in s[i]] for name, s in zip(names, scores)}
            teacher = combine([s[i] for s in scores], weights, calibration) if calibration else scores[0][i]
            new.append({"query_id": m["query_id"], "docs": ids[i], "members": members,
                        "teacher": [round(float(x), 6) for x in teacher], "seconds": round(seconds, 4)})
        step.append(new)
        rows += new
    report(len(mined), len(mined), "query")
    order = {m["query_id"]: i for i, m in enumerate(mined)}
    rows.sort(key=lambda r: order[r["query_id"]])
    summary = {"teacher": names if calibration else names[0], "calibration": calibration, "queries": len(rows),
               "pairs": sum(len(r["docs"]) for r in rows), "scoring_seconds": round(sum(r["seconds"] for r in rows), 1), "resumed_rows": resumed}
    step.finish(rows, summary)
    return summary
