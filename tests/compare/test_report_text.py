"""Report wording (unit plurals) and the HTML rendering of the report's inline Markdown."""

import json
import re

import pytest

from loralab.compare import report
from loralab.compare.config import CompareConfig
from loralab.compare.report import inline_html, write_report
from loralab.compare.task_tables import plural, task_bench, task_names


@pytest.fixture(autouse=True)
def _quick_hardware(monkeypatch):
    monkeypatch.setattr(report, "hardware", lambda: {"cpu_model": "Test CPU", "cpu_count": 2, "torch_threads": 2})


def _rows(task, notes=()):
    bench = task_bench(task)
    quality = {key: 0.5 for key, _, _ in bench.quality_columns}
    throughput = bench.speed_columns[2][0]
    return [
        {"method": "a", "ranker": "bm25", "model": None, "quantization": None, "num_queries": 43, **quality,
         "p50_ms": 12.5, "p95_ms": 20.0, throughput: 100.0, "peak_rss_mb": 300.0, "size_mb": 10.0,
         "cost_per_1m": 0.28, "notes": list(notes)},
    ]


def _config(task, **extra):
    return CompareConfig.model_validate(
        {"task": task, "dataset": "demo-set", "price_per_hour": 1.0, "methods": [{"name": "a", "ranker": "bm25"}],
         **extra}
    )


def test_plural_of_every_unit():
    assert [plural(u) for u in ("query", "example", "pair", "item")] == ["queries", "examples", "pairs", "items"]
    assert plural("query", 1) == "query" and plural("query", 3) == "queries" and plural("pair", 0) == "pairs"


@pytest.mark.parametrize("task", task_names())
def test_reports_pluralise_units_properly(task, tmp_path):
    unit = task_bench(task).unit
    paths = write_report(_config(task), _rows(task), tmp_path)
    text = paths["markdown"].read_text() + paths["html"].read_text()
    assert "querys" not in text and f"{unit}ss" not in text
    assert f"43 {plural(unit)}" in text and f"cost per 1M {plural(unit)}" in text
    assert f"$ / 1M {plural(unit)}" in text  # the cost column's header
    assert f"one {unit} at a time" in text


def test_one_query_is_singular(tmp_path):
    rows = _rows("rerank")
    rows[0]["num_queries"] = 1
    md = write_report(_config("rerank"), rows, tmp_path)["markdown"].read_text()
    assert "1 query" in md and "1 queries" not in md


def test_inline_html_renders_code_and_bold_and_escapes_the_rest():
    assert inline_html("a < b & `x<y>` **c & d**") == "a &lt; b &amp; <code>x&lt;y&gt;</code> <strong>c &amp; d</strong>"
    assert inline_html("`**not bold**`") == "<code>**not bold**</code>"
    assert inline_html("plain 'text'") == "plain &#x27;text&#x27;"


def test_html_report_has_no_raw_backticks(tmp_path):
    notes = ["`--limit` was set; **quick run**", "scores from `<script>alert(1)</script>`"]
    cfg = _config("rerank", title="`loralab` demo", limit_queries=3)
    rows = _rows("rerank", notes)
    paths = write_report(cfg, rows, tmp_path)
    page = paths["html"].read_text()
    assert "`" not in page
    assert "<code>rerank</code>" in page and "<code>demo-set</code>" in page and "<code>--limit</code>" in page
    assert "<strong>quick run</strong>" in page
    assert "<script>alert" not in page and "<code>&lt;script&gt;alert(1)&lt;/script&gt;</code>" in page
    assert "<h1><code>loralab</code> demo</h1>" in page and "<title>loralab demo</title>" in page
    # The embedded results are still valid JSON, the same rows, backticks and all.
    data = re.search(r"<script type='application/json' id='results'>(.*?)</script>", page, re.DOTALL).group(1)
    assert json.loads(data) == rows
    # The Markdown keeps its Markdown.
    assert "`rerank`" in paths["markdown"].read_text()
