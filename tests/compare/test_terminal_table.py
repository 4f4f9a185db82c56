"""The table `loralab compare` prints fits the terminal without ever cutting a metric."""

import pytest
from rich.console import Console

from loralab.compare.report import columns_for, print_table, table_rows, terminal_table
from loralab.compare.task_tables import task_bench, task_names

# The demo's two rows (TREC DL 2019: BM25 first stage, MiniLM bi-encoder re-ranking it), realistic values.
DEMO_ROWS = [
    {"method": "BM25", "ranker": "bm25", "model": None, "quantization": None, "num_queries": 43,
     "ndcg@10": 0.5058, "mrr@10": 0.7024, "recall@100": 0.4910, "p50_ms": None, "p95_ms": None,
     "pairs_per_s": None, "peak_rss_mb": 412.3, "size_mb": None, "cost_per_1m": None, "notes": []},
    {"method": "MiniLM bi-encoder", "ranker": "bi-encoder", "model": "sentence-transformers/all-MiniLM-L6-v2",
     "quantization": None, "num_queries": 43, "ndcg@10": 0.6424, "mrr@10": 0.8312, "recall@100": 0.4910,
     "p50_ms": 182.4, "p95_ms": 240.7, "pairs_per_s": 5480.3, "peak_rss_mb": 1187.2, "size_mb": 86.7,
     "cost_per_1m": 5.07, "notes": []},
]


def _render(rows, task, width):
    console = Console(width=width, record=True, color_system=None)
    print_table(console, rows, task, title=f"{task}: demo")
    return console.export_text()


def _metric_cells(rows, task):
    """Every formatted quality cell of the task (the primary metric is one of them)."""
    bench = task_bench(task)
    keys = [key for key, _, _ in columns_for(rows, task)]
    quality = {key for key, _, _ in bench.quality_columns} | {bench.primary}
    return [cell for cells in table_rows(rows, task) for key, cell in zip(keys, cells) if key in quality]


def test_demo_table_at_80_columns_shows_every_metric_whole():
    text = _render(DEMO_ROWS, "rerank", 80)
    for value in ("0.5058", "0.7024", "0.4910", "0.6424", "0.8312"):
        assert value in text, f"{value} is cut or missing:\n{text}"
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    for header in ("NDCG@10", "MRR@10", "R@100"):
        assert header in text


def test_narrow_table_drops_low_value_columns_first_and_says_so():
    table = terminal_table(DEMO_ROWS, "rerank", 80)
    headers = [column.header for column in table.columns]
    assert headers[:4] == ["method", "NDCG@10", "MRR@10", "R@100"]
    assert "size MB" not in headers and "$ / 1M queries" not in headers  # static and derived numbers go first
    assert "p50 ms/query" in headers and "pairs/s" in headers  # median latency and throughput stay
    assert "size MB" in table.caption and "report.md" in table.caption


def test_wide_console_shows_every_column_unwrapped():
    text = _render(DEMO_ROWS, "rerank", 200)
    header_line = next(line for line in text.splitlines() if "NDCG@10" in line)
    for _, label, _ in columns_for(DEMO_ROWS, "rerank"):
        assert label in header_line
    assert "not shown" not in text and "…" not in text


def _busy_rows(task):
    """Two rows with every column the task can show: quality, speed, prompting and training numbers."""
    bench = task_bench(task)
    shared = {"p50_ms": 1234.5, "p95_ms": 2345.6, "pairs_per_s": 8123.4, "items_per_s": 12.3, "peak_rss_mb": 3456.0,
              "size_mb": 1234.5, "cost_per_1m": 123.45, "tokens_in_per_query": 512.0, "tokens_out_per_query": 12.5,
              "failures": 0, "train_seconds": 3600.0, "train_peak_rss_mb": 8000.0, "trainable_params": 1234567,
              "trainable_percent": 0.123, "adapter_mb": 12.34, "ranker": "x", "notes": []}
    rows = []
    for n, method in enumerate(["Qwen2.5-0.5B QLoRA r=16 nf4", "prompted gpt-4o-mini (few-shot)"]):
        quality = {key: (3 if fmt == "{}" else 1234.5678 * (n + 1) if key == "mae" else 0.1234 + n / 10)
                   for key, _, fmt in bench.quality_columns}
        rows.append({**shared, **quality, "method": method})
    return rows


@pytest.mark.parametrize("task", task_names())
@pytest.mark.parametrize("width", [80, 60])
def test_every_task_keeps_its_quality_columns_whole(task, width):
    rows = _busy_rows(task)
    text = _render(rows, task, width)
    for cell in _metric_cells(rows, task):
        assert cell in text, f"{task} at {width} columns cut {cell}:\n{text}"
    assert "…" not in text
    assert all(len(line) <= width for line in text.splitlines())


def test_too_narrow_for_a_table_prints_lines_with_whole_numbers():
    text = _render(DEMO_ROWS, "rerank", 30)
    for value in ("0.5058", "0.7024", "0.4910", "0.6424", "0.8312", "5480.3"):
        assert value in text
    assert "…" not in text and all(len(line) <= 30 for line in text.splitlines())
