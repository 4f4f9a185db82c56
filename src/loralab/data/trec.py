"""TREC run and qrels files, and BM25 candidate lists in JSONL form."""

from __future__ import annotations

import math
import os
from pathlib import Path

from loralab.data.jsonl import iter_lines
from loralab.data.schemas import Qrels, Ranking
from loralab.errors import DataError


def read_run(path: Path) -> Ranking:
    """Read `qid Q0 docid rank score tag` lines into a Ranking."""
    ranking = Ranking()
    for lineno, line in iter_lines(path):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise DataError(
                f"{path}:{lineno}: a TREC run line has 6 columns 'qid Q0 docid rank score tag', got {len(parts)}"
            )
        qid, _, docid, _, score, _ = parts
        try:
            value = float(score)
        except ValueError:
            raise DataError(f"{path}:{lineno}: field 'score' is not a number: {score!r}") from None
        if not math.isfinite(value):
            raise DataError(f"{path}:{lineno}: field 'score' must be a finite number, got {score!r}")
        docs = ranking.scores.setdefault(qid, {})
        if docid in docs:
            raise DataError(f"{path}:{lineno}: document '{docid}' is listed twice for query '{qid}' "
                            "(a run ranks each document once per query; remove the duplicate line)")
        docs[docid] = value
    if not ranking.scores:
        raise DataError(f"{path}: the run file has no lines")
    return ranking


def write_run(ranking: Ranking, path: Path, tag: str = "loralab") -> None:
    """Write a TREC run atomically (temp file + rename), best first per query."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        for qid in ranking.query_ids:
            for rank, (docid, score) in enumerate(ranking.ranked(qid), start=1):
                out.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")
    os.replace(tmp, path)


def read_qrels(path: Path) -> Qrels:
    """Read TREC qrels (`qid 0 docid rel`) or BEIR qrels TSV (`query-id corpus-id score`, with header)."""
    qrels: Qrels = {}
    for lineno, line in iter_lines(path):
        parts = line.split()
        if not parts or (lineno == 1 and parts[0] == "query-id"):
            continue
        if len(parts) == 4:
            qid, _, docid, rel = parts
        elif len(parts) == 3:
            qid, docid, rel = parts
        else:
            raise DataError(
                f"{path}:{lineno}: qrels lines have 4 columns (TREC 'qid 0 docid rel') "
                f"or 3 (BEIR 'query-id corpus-id score'), got {len(parts)}"
            )
        try:
            grade = int(rel)
        except ValueError:
            raise DataError(f"{path}:{lineno}: field 'relevance' is not an integer: {rel!r}") from None
        judged = qrels.setdefault(qid, {})
        if judged.get(docid, grade) != grade:
            raise DataError(f"{path}:{lineno}: document '{docid}' is judged twice for query '{qid}' "
                            f"with different grades ({judged[docid]} and {grade}); keep one line")
        judged[docid] = grade
    if not qrels:
        raise DataError(f"{path}: the qrels file has no judgments")
    return qrels
