"""The passages a chain may use: the corpus minus the candidate pools of held-out evaluation queries."""

from __future__ import annotations

import random

from loralab.data.registry import load_rerank_dataset
from loralab.data.schemas import Document
from loralab.errors import ConfigError
from loralab.tasks.rerank.folds import fold_query_ids
from loralab.tasks.rerank.labelfree.config import ChainConfig, HoldoutConfig


def held_out_pool(holdout: HoldoutConfig) -> set[str]:
    """Every passage in the top-`depth` candidates of the held-out fold's queries."""
    from loralab.retrieval.bm25 import with_bm25_candidates

    dataset = with_bm25_candidates(load_rerank_dataset(holdout.dataset))
    return {d for q in fold_query_ids(dataset, holdout.folds, holdout.fold)
            for d, _ in dataset.candidates.ranked(q, holdout.depth)}


def usable_corpus(config: ChainConfig) -> dict[str, Document]:
    corpus = load_rerank_dataset(config.corpus).corpus
    if config.holdout:
        held = held_out_pool(config.holdout)
        corpus = {d: doc for d, doc in corpus.items() if d not in held}
    if not corpus:
        raise ConfigError(f"{config.corpus}: no passage is left outside the held-out pools")
    return corpus


def sample_passages(corpus: dict[str, Document], n: int, seed: int) -> list[str]:
    """The first `n` passage ids of a seeded shuffle: a larger `n` extends a smaller one's sample, so a chain
    grown in a later sitting keeps every query it already generated."""
    ids = sorted(d for d, doc in corpus.items() if doc.full_text.strip())
    random.Random(seed).shuffle(ids)
    return ids[:n]
