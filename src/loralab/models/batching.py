"""Length-sorted, dynamically padded batches: the cheapest way to cut padding waste on CPU."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch


def length_sorted_batches(
    tokenizer,
    texts: Sequence[str],
    pair_texts: Sequence[str] | None = None,
    max_length: int = 256,
    batch_size: int = 32,
    sort_by_length: bool = True,
) -> Iterator[tuple[list[int], dict[str, torch.Tensor]]]:
    """Yield (original indices, padded tensors) with the longest inputs first, so memory peaks early."""
    if not texts:
        return
    encoded = tokenizer(
        list(texts),
        list(pair_texts) if pair_texts is not None else None,
        truncation=True,
        max_length=max_length,
    )
    lengths = [len(ids) for ids in encoded["input_ids"]]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i]) if sort_by_length else list(range(len(lengths)))
    keys = list(encoded.keys())
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        features = [{k: encoded[k][i] for k in keys} for i in idx]
        yield idx, tokenizer.pad(features, padding=True, return_tensors="pt")


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average over real (non-padding) tokens, as sentence-transformers' Pooling(mean) does."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
