"""Step 1: an LLM writes the query each sampled passage answers (few-shot template `querygen`; greedy, or several
sampled queries per passage), or the queries are sampled from a log of real, unlabeled queries (`query_log`)."""

from __future__ import annotations

import random
import re
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Any

from loralab.data.jsonl import iter_jsonl, require_str
from loralab.data.schemas import Document
from loralab.errors import DataError
from loralab.progress import report
from loralab.rankers.prompt.rankers import make_backend, truncate_words
from loralab.rankers.prompt.templates import load_template
from loralab.tasks.rerank.labelfree.config import ChainConfig, QueryGenConfig
from loralab.tasks.rerank.labelfree.corpus import sample_passages
from loralab.tasks.rerank.labelfree.steps import StepFolder

CHUNK = 16  # queries generated between two resume points
_PREFIX = re.compile(r"^(search\s+)?query\s*:\s*", re.IGNORECASE)


def clean_query(row: dict[str, Any], config: QueryGenConfig) -> tuple[str | None, str | None]:
    """(query, None) or (None, why it was dropped): the reply's first line, without quotes or a 'Query:' label.
    A reply cut at max_new_tokens is dropped: a small model that does not stop is copying the passage."""
    if row.get("error"):
        return None, "error"
    if row["tokens_out"] >= config.max_new_tokens:
        return None, "unfinished"
    line = next((part.strip() for part in row["reply"].splitlines() if part.strip()), "")
    line = " ".join(_PREFIX.sub("", line).strip().strip("\"'`").split())
    words = len(line.split())
    if words < config.min_words:
        return None, "too_short"
    if words > config.max_words:
        return None, "too_long"
    return line, None


def clean_rows(rows: list[dict[str, Any]], config: QueryGenConfig) -> None:
    """Set each row's `query` and `dropped` (in order). Cleaning is a function of the reply, so resumed rows are
    cleaned by the same rules; a query sampled twice for one passage (case aside) is kept once."""
    seen: set[tuple[str, str]] = set()
    for row in rows:
        row["query"], row["dropped"] = clean_query(row, config)
        if row["query"] is not None:
            key = (row["passage_id"], row["query"].lower())
            if key in seen:
                row["query"], row["dropped"] = None, "duplicate"
            seen.add(key)


def read_query_log(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """({query id: text}, {id of a repeated text: the id kept for it}) of a JSONL(.gz) file of {_id, text} rows;
    a repeated text is kept once, under its first id."""
    queries, first, repeats = {}, {}, {}
    for lineno, row in iter_jsonl(path):
        qid, text = require_str(row, "_id", path, lineno), " ".join(require_str(row, "text", path, lineno).split())
        if qid in queries or qid in repeats:
            raise DataError(f"{path}:{lineno}: query id '{qid}' appears twice")
        if text.lower() in first:
            repeats[qid] = first[text.lower()]
        else:
            first[text.lower()] = qid
            queries[qid] = text
    if not queries:
        raise DataError(f"{path}: no queries (expected JSONL rows {{\"_id\": ..., \"text\": ...}})")
    return queries, repeats


def judged_relevant(path: Path, queries: dict[str, str], repeats: dict[str, str],
                    corpus: dict[str, Document], relevance_level: int = 1) -> dict[str, list[str]]:
    """{query id: its relevant documents (grade >= relevance_level) in the corpus, sorted}, for the log's judged
    queries; a judged query whose text repeats another's adds its documents to the kept id (only if that one is
    judged too, so an unjudged query, e.g. a test query, is never drawn)."""
    from loralab.data.trec import read_qrels

    qrels = read_qrels(path)
    unknown = sorted(set(qrels) - set(queries) - set(repeats))
    if unknown:
        raise DataError(f"{path}: {len(unknown)} judged queries are not in the query log (e.g. '{unknown[0]}')")
    relevant: dict[str, set[str]] = {}
    for qid, judged in qrels.items():
        kept = repeats.get(qid, qid)
        if kept in qrels:
            relevant.setdefault(kept, set()).update(
                d for d, grade in judged.items() if grade >= relevance_level and d in corpus)
    relevant = {q: sorted(docs) for q, docs in relevant.items() if docs}
    if not relevant:
        raise DataError(f"{path}: no judged query has a document of grade >= {relevance_level} in the corpus")
    return relevant


def sample_log_queries(config: ChainConfig, corpus: dict[str, Document], step: StepFolder) -> dict[str, Any]:
    """The first `query_log.sample` queries of a seeded shuffle of the log (a larger sample extends a smaller).
    With qrels: only judged queries, each with its first relevant document as the group's positive."""
    log = config.query_log
    queries, repeats = read_query_log(Path(log.path))
    relevant = judged_relevant(Path(log.qrels), queries, repeats, corpus, log.relevance_level) if log.qrels else None
    ids = sorted(relevant if relevant is not None else queries)
    random.Random(config.seed).shuffle(ids)
    rows = []
    for qid in ids[: log.sample]:
        row = {"query_id": f"log-{qid}", "passage_id": None, "query": queries[qid], "dropped": None}
        if relevant is not None:
            row.update(passage_id=relevant[qid][0], relevant=relevant[qid])
        rows.append(row)
    summary = {"query_log": log.path, "log_queries": len(queries), "queries": len(rows), "resumed_rows": 0}
    if relevant is not None:
        summary.update(qrels=log.qrels, judged_queries=len(relevant))
    step.finish(rows, summary)
    return summary


def query_ids(passage_id: str, config: QueryGenConfig) -> list[str]:
    """One query per passage keeps the id `gen-<passage>` of the chains made before several were possible."""
    if config.queries_per_passage == 1:
        return [f"gen-{passage_id}"]
    return [f"gen-{passage_id}-{k}" for k in range(config.queries_per_passage)]


def generate_queries(config: ChainConfig, corpus: dict[str, Document], step: StepFolder) -> dict[str, Any]:
    if config.query_log:
        return sample_log_queries(config, corpus, step)
    gen = config.generator
    sampled = sample_passages(corpus, config.passages, config.seed)
    jobs = [(qid, p) for p in sampled for qid in query_ids(p, gen)]
    rows = step.resume([qid for qid, _ in jobs], "query_id")
    resumed = len(rows)
    done = {row["query_id"] for row in rows}
    todo = [job for job in jobs if job[0] not in done]
    if todo:
        template = load_template(gen.template, "querygen")
        backend = make_backend(gen)
    for start in range(0, len(todo), CHUNK):
        report(len(done) + start, len(jobs), "query")
        chunk = todo[start : start + CHUNK]
        prompts = [template.render(passage=truncate_words(corpus[p].full_text, gen.max_doc_words)) for _, p in chunk]
        began = time.perf_counter()
        # seeded by the chunk's first query: a resumed run draws its remaining queries afresh, each still a sample
        sampling = gen.sampling(zlib.crc32(f"{config.seed}:{chunk[0][0]}".encode()))
        replies = backend.generate(prompts, gen.max_new_tokens, sampling)
        seconds = (time.perf_counter() - began) / len(chunk)
        new = []
        for (query_id, passage_id), reply in zip(chunk, replies):
            new.append({"query_id": query_id, "passage_id": passage_id, "reply": reply.text,
                        "error": reply.error, "tokens_in": reply.tokens_in, "tokens_out": reply.tokens_out,
                        "seconds": round(seconds, 4)})
        step.append(new)
        rows += new
    report(len(jobs), len(jobs), "query")
    order = {qid: i for i, (qid, _) in enumerate(jobs)}
    rows.sort(key=lambda row: order[row["query_id"]])
    clean_rows(rows, gen)
    tokens_in, tokens_out = sum(r["tokens_in"] for r in rows), sum(r["tokens_out"] for r in rows)
    cost = None
    if gen.price_in_per_1m is not None and gen.price_out_per_1m is not None:
        cost = (tokens_in * gen.price_in_per_1m + tokens_out * gen.price_out_per_1m) / 1e6
    summary = {
        "generator": f"{gen.backend}:{gen.model}", "passages": len(sampled),
        **({"queries_per_passage": gen.queries_per_passage} if gen.queries_per_passage > 1 else {}),
        "queries": sum(r["query"] is not None for r in rows),
        "dropped": dict(Counter(r["dropped"] for r in rows if r["dropped"])),
        "tokens_in": tokens_in, "tokens_out": tokens_out, "token_cost_usd": cost,
        "generation_seconds": round(sum(r["seconds"] for r in rows), 1), "resumed_rows": resumed,
    }
    step.finish(rows, summary)
    return summary
