"""Calibration inputs for int8-static / GPTQ / AWQ: SciFact training pairs (never the evaluation data)."""

from __future__ import annotations

from collections.abc import Iterator

from loralab.data.jsonl import iter_jsonl
from loralab.data.registry import BUILTIN_DIR

TRIPLES = BUILTIN_DIR / "beir-scifact-train-triples" / "train_triples.jsonl.gz"


def calibration_pairs(n: int = 64) -> list[tuple[str, str]]:
    """(query, document) pairs: each training query with its positive and first negative, in file order."""
    pairs: list[tuple[str, str]] = []
    for _, row in iter_jsonl(TRIPLES):
        docs = [row["positive"], *row.get("negatives", [])[:1]]
        for doc in docs:
            text = doc["text"] if isinstance(doc, dict) else str(doc)
            pairs.append((row["query"], text))
        if len(pairs) >= n:
            break
    return pairs[:n]


def calibration_batches(
    tokenizer, n: int = 64, batch_size: int = 16, max_length: int = 256, pairs: bool = True
) -> Iterator[dict]:
    """Tokenized batches; `pairs=False` joins query and document into one text (encoders, causal LMs)."""
    data = calibration_pairs(n)
    if tokenizer.pad_token is None:  # causal LMs often ship without one
        tokenizer.pad_token = tokenizer.eos_token
    for start in range(0, len(data), batch_size):
        chunk = data[start : start + batch_size]
        queries, docs = [q for q, _ in chunk], [d for _, d in chunk]
        if pairs:
            yield tokenizer(queries, docs, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        else:
            texts = [f"{q}\n{d}" for q, d in chunk]
            yield tokenizer(texts, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
