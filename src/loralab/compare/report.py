"""The comparison report: Markdown, self-contained HTML (images inlined) and PNG charts."""

from __future__ import annotations

import base64
import html
import json
import platform
import time
from pathlib import Path
from typing import Any

from loralab.compare.ablation import write_ablation
from loralab.compare.charts import memory_bars, quality_vs_latency, training_curves
from loralab.compare.config import CompareConfig
from loralab.compare.task_tables import task_bench
from loralab.artifacts.atomic import atomic_write_json, atomic_write_text
from loralab.artifacts.run_folder import hardware

TRAINING_COLUMNS = [
    ("train_seconds", "train s", "{:.0f}"),
    ("train_peak_rss_mb", "train peak RSS MB", "{:.0f}"),
    ("trainable_params", "trainable params", "{:,}"),
    ("trainable_percent", "trainable %", "{:.3f}"),
    ("adapter_mb", "adapter MB", "{:.2f}"),
]

PROMPT_COLUMNS = [
    ("tokens_in_per_query", "tokens in/query", "{:.0f}"),
    ("tokens_out_per_query", "tokens out/query", "{:.1f}"),
    ("failures", "failed calls", "{}"),
]


def columns_for(rows: list[dict[str, Any]], task: str = "rerank") -> list[tuple[str, str, str]]:
    """The task's quality and speed columns; training columns only when some row is a trained run, token
    columns when one prompts an LLM."""
    bench = task_bench(task)
    trained = any(r.get("train_seconds") is not None for r in rows)
    prompted = any(r.get("tokens_in_per_query") is not None for r in rows)
    return ([("method", "method", "{}"), *bench.quality_columns, *bench.speed_columns]
            + (PROMPT_COLUMNS if prompted else []) + (TRAINING_COLUMNS if trained else []))


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return "—" if value is None else fmt.format(value)


def table_rows(rows: list[dict[str, Any]], task: str = "rerank") -> list[list[str]]:
    return [[_cell(r, key, fmt) for key, _, fmt in columns_for(rows, task)] for r in rows]


def _context_lines(config: CompareConfig, rows: list[dict[str, Any]]) -> list[str]:
    hw = hardware()
    bench = task_bench(config.task)
    lines = [
        f"Task `{config.task}`, dataset `{config.dataset}`, {rows[0].get('num_queries', '?')} {bench.unit}s"
        + (f" (limited to {config.limit_queries})" if config.limit_queries else "")
        + (f", top {config.limit_candidates} candidates each" if config.limit_candidates else ""),
        f"Machine: {hw.get('cpu_model')} ({hw.get('cpu_count')} cores), torch threads {hw.get('torch_threads')}, "
        f"Python {platform.python_version()}; generated {time.strftime('%Y-%m-%d %H:%M')}",
        f"Latency: {bench.latency_note}; cost per 1M {bench.unit}s at "
        f"${config.price_per_hour:.2f} per machine-hour, one {bench.unit} at a time at the measured rate.",
    ]
    for row in rows:
        lines += [f"Note on {row['method']}: {note}" for note in row.get("notes", [])]
    return lines


def write_report(config: CompareConfig, rows: list[dict[str, Any]], out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    charts = {
        "Quality vs latency": quality_vs_latency(rows, out_dir / "quality_vs_latency.png", task_bench(config.task).primary),
        "Memory": memory_bars(rows, out_dir / "memory.png"),
    }
    if any(r.get("curves") for r in rows):
        charts["Training curves"] = training_curves(rows, out_dir / "training_curves.png")
    title = config.title or f"loralab comparison: {config.dataset}"
    context = _context_lines(config, rows)
    atomic_write_json(out_dir / "results.json", {"config": config.model_dump(), "rows": rows})
    # Only re-ranking rows with quantized variants get the ablation table.
    ablation = write_ablation(rows, out_dir, config.dataset) if config.task == "rerank" else {}
    atomic_write_text(out_dir / "report.md", _markdown(title, context, rows, charts, config.task))
    atomic_write_text(out_dir / "report.html", _html(title, context, rows, charts, config.task))
    return {"markdown": out_dir / "report.md", "html": out_dir / "report.html", **charts, **ablation}


def _markdown(title: str, context: list[str], rows: list[dict[str, Any]], charts: dict[str, Path], task: str) -> str:
    head = [label for _, label, _ in columns_for(rows, task)]
    lines = [f"# {title}", "", *[f"- {c}" for c in context], ""]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cells) + " |" for cells in table_rows(rows, task)]
    lines.append("")
    for name, path in charts.items():
        lines += [f"## {name}", "", f"![{name}]({path.name})", ""]
    lines += ["Raw numbers: `results.json`; per-method run folders (manifest, metrics, TREC run): `runs/`.", ""]
    return "\n".join(lines)


def _html(title: str, context: list[str], rows: list[dict[str, Any]], charts: dict[str, Path], task: str) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(label)}</th>" for _, label, _ in columns_for(rows, task))
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>" for cells in table_rows(rows, task))
    images = "".join(
        f"<h2>{esc(name)}</h2><img alt='{esc(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'/>"
        for name, path in charts.items()
    )
    items = "".join(f"<li>{esc(c)}</li>" for c in context)
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
        "img{max-width:100%}"
    )
    data = esc(json.dumps(rows, default=str))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>{style}</style></head>"
        f"<body><h1>{esc(title)}</h1><ul>{items}</ul><table><tr>{head}</tr>{body}</table>{images}"
        f"<script type='application/json' id='results'>{data}</script></body></html>\n"
    )
