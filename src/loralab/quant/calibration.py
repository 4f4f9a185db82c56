"""Calibration inputs for int8-static / GPTQ / AWQ: (query, document) pairs from training data, never evaluation data.

The source is a config option (`int8-static:calibration_data=my_groups.jsonl`): a training-groups JSONL
(`query`, `positive`, `negatives`, as `loralab train --task rerank` reads) or a registered training dataset;
the default is SciFact's training triples, shipped with loralab.
"""

from __future__ import annotations

from collections.abc import Iterator

from pathlib import Path

from loralab.data.jsonl import iter_jsonl
from loralab.data.registry import get_spec
from loralab.errors import DataError

DEFAULT_SOURCE = "scifact-train"


def calibration_file(source: str = DEFAULT_SOURCE) -> Path:
    path = Path(source)
    if path.is_file():
        return path
    files = sorted(get_spec(source).folder.glob("*.jsonl*"))
    if not files:
        raise DataError(f"calibration data '{source}': no JSONL file of training groups in it")
    return files[0]


def calibration_pairs(n: int = 64, source: str = DEFAULT_SOURCE) -> list[tuple[str, str]]:
    """(query, document) pairs: each training query with its positive and first negative, in file order."""
    pairs: list[tuple[str, str]] = []
    path = calibration_file(source or DEFAULT_SOURCE)
    for lineno, row in iter_jsonl(path):
        if "query" not in row or "positive" not in row:
            raise DataError(f"{path}:{lineno}: calibration rows need 'query' and 'positive' (training groups)")
        docs = [row["positive"], *row.get("negatives", [])[:1]]
        for doc in docs:
            text = doc["text"] if isinstance(doc, dict) else str(doc)
            pairs.append((row["query"], text))
        if len(pairs) >= n:
            break
    return pairs[:n]


def calibration_batches(
    tokenizer, n: int = 64, batch_size: int = 16, max_length: int = 256, pairs: bool = True,
    source: str = DEFAULT_SOURCE,
) -> Iterator[dict]:
    """Tokenized batches; `pairs=False` joins query and document into one text (encoders, causal LMs)."""
    data = calibration_pairs(n, source)
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
