import json

import pytest

from loralab.compare.engine import run_compare
from loralab.compare.config import load_compare_config
from loralab.compare.report import write_report
from loralab.errors import ConfigError


def _config(tmp_path, body: str):
    path = tmp_path / "cmp.yaml"
    path.write_text(body)
    return load_compare_config(path)


def test_compare_writes_report_with_measured_columns(tmp_path, tiny_bert):
    cfg = _config(
        tmp_path,
        f"""
dataset: trec-dl-2019
limit_queries: 3
limit_candidates: 10
price_per_hour: 1.0
methods:
  - {{name: BM25, ranker: bm25}}
  - {{name: tiny, ranker: bi-encoder, model: "{tiny_bert}", batch_size: 4, also_interpolated: [0.0, 1.0]}}
""",
    )
    out = tmp_path / "report"
    rows = run_compare(cfg, out)
    paths = write_report(cfg, rows, out)
    bm25, tiny, first_stage_only, reranker_only = rows
    # Blends come from the same scores: alpha 0 is the first stage's quality, alpha 1 the re-ranker's.
    assert first_stage_only["method"] == "tiny + first stage (alpha 0)"
    assert first_stage_only["ndcg@10"] == pytest.approx(bm25["ndcg@10"])
    assert reranker_only["ndcg@10"] == pytest.approx(tiny["ndcg@10"]) and reranker_only["p50_ms"] == tiny["p50_ms"]
    assert bm25["p50_ms"] is None and tiny["p50_ms"] > 0 and tiny["pairs_per_s"] > 0
    assert tiny["num_queries"] == 3 and 0 <= tiny["ndcg@10"] <= 1
    assert tiny["peak_rss_mb"] > 50 and tiny["size_mb"] > 0
    # cost = machine time for 1M queries at the measured rate (10 candidates per query, $1 per hour)
    queries_per_second = tiny["pairs_per_s"] / 10
    assert tiny["cost_per_1m"] == pytest.approx(1e6 / queries_per_second / 3600 * 1.0, rel=1e-6)
    md = paths["markdown"].read_text()
    assert "| BM25 |" in md and "| tiny |" in md and "limited to 3" in md
    html = paths["html"].read_text()
    assert html.count("data:image/png;base64,") == 2
    for name in ("quality_vs_latency.png", "memory.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((out / "results.json").read_text())
    assert [r["method"] for r in saved["rows"]][:2] == ["BM25", "tiny"] and len(saved["rows"]) == 4
    assert (out / "runs" / "tiny" / "manifest.json").is_file()


def test_bad_compare_configs_name_the_problem(tmp_path):
    with pytest.raises(ConfigError, match="methods"):
        _config(tmp_path, "dataset: trec-dl-2019\n")
    with pytest.raises(ConfigError, match="unique"):
        _config(tmp_path, "dataset: x\nmethods:\n  - {name: a, ranker: bm25}\n  - {name: a, ranker: bm25}\n")
    with pytest.raises(ConfigError, match="between 0 and 1"):
        _config(tmp_path, "dataset: x\nmethods:\n  - {name: a, ranker: cross-encoder, also_interpolated: [2]}\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        _config(tmp_path, "dataset: [unclosed\n")
    with pytest.raises(ConfigError, match="not found"):
        load_compare_config(tmp_path / "missing.yaml")
