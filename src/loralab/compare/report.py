"""The comparison report: Markdown, self-contained HTML (images inlined) and PNG charts."""

from __future__ import annotations

import base64
import html
import json
import platform
import re
import time
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json, atomic_write_text
from loralab.artifacts.run_folder import hardware
from loralab.compare.ablation import write_ablation
from loralab.compare.charts import memory_bars, quality_vs_latency, training_curves
from loralab.compare import significance
from loralab.compare.config import CompareConfig
from loralab.compare.task_tables import plural, task_bench
from loralab.compare.verdict import Budget, recommend

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


# Filled by compare.significance: the primary metric's 95% bootstrap interval, Holm-adjusted paired p-values.
STATISTICS_COLUMNS = [
    ("ci", "95% CI", "{}"),
    ("p_vs_baseline", "p vs first", "{:.3f}"),
    ("p_vs_best", "p vs best", "{:.3f}"),
]


def columns_for(rows: list[dict[str, Any]], task: str = "rerank") -> list[tuple[str, str, str]]:
    """The task's quality and speed columns; statistics when per-example scores were there; training columns only
    when some row is a trained run, token columns when one prompts an LLM."""
    bench = task_bench(task)
    trained = any(r.get("train_seconds") is not None for r in rows)
    prompted = any(r.get("tokens_in_per_query") is not None for r in rows)
    stats = [c for c in STATISTICS_COLUMNS if any(r.get(c[0]) is not None for r in rows)]
    return ([("method", "method", "{}"), *bench.quality_columns, *stats, *bench.speed_columns]
            + (PROMPT_COLUMNS if prompted else []) + (TRAINING_COLUMNS if trained else []))


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    return "—" if value is None else fmt.format(value)


def table_rows(rows: list[dict[str, Any]], task: str = "rerank") -> list[list[str]]:
    return [[_cell(r, key, fmt) for key, _, fmt in columns_for(rows, task)] for r in rows]


# The order the terminal table gives columns up in when the console is too narrow (first listed, first dropped).
# The method, the task's quality columns and its primary metric are never dropped; report.md and report.html always
# carry every column. Static facts go first (stored size is known before any run; peak RSS is in the memory chart);
# then training bookkeeping and derived numbers ($/1M is the measured throughput times a price); then the tail
# latency; the median latency (the quality-vs-latency chart's axis), throughput and failed calls go last.
TERMINAL_DROP_ORDER = (
    "size_mb", "p_vs_best", "ci", "trainable_params", "train_peak_rss_mb", "peak_rss_mb", "adapter_mb", "cost_per_1m",
    "tokens_out_per_query", "tokens_in_per_query", "trainable_percent", "train_seconds", "p_vs_baseline", "p95_ms",
    "pairs_per_s", "items_per_s", "p50_ms", "failures",
)
_METHOD_MAX_MIN = 20  # method names may wrap, but not below their longest word (up to this many characters)


def _words_width(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def terminal_table(rows: list[dict[str, Any]], task: str, width: int, title: str | None = None):
    """A rich Table that fits `width` columns without cutting a number: headers wrap at spaces and, when that is
    not enough, low-value columns are left out (TERMINAL_DROP_ORDER; the caption names them). Metric cells are never
    shortened; if even the essential columns cannot fit, they are all kept and the table is wider than `width`
    (print_table then prints the rows as lines instead)."""
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    bench = task_bench(task)
    columns = columns_for(rows, task)
    cells = table_rows(rows, task)
    essential = {"method", bench.primary, *(key for key, _, _ in bench.quality_columns)}
    full = [max([len(label), *(len(row[i]) for row in cells)]) for i, (_, label, _) in enumerate(columns)]
    least = [
        max([_words_width(label), *(len(row[i]) for row in cells)]) for i, (_, label, _) in enumerate(columns)
    ]
    method = [key for key, _, _ in columns].index("method")
    names = max((_words_width(row[method]) for row in cells), default=0)
    least[method] = min(full[method], max(len("method"), min(names, _METHOD_MAX_MIN)))

    def build(keep: list[int], widths: dict[int, int], caption: str | None) -> Table:
        table = Table(title=title, caption=caption)
        for i in keep:
            # A fixed width per column: rich then never shrinks a cell; "fold" wraps a long method name or
            # header instead of cutting it with an ellipsis.
            table.add_column(columns[i][1], width=widths[i], overflow="fold")
        for row in cells:
            table.add_row(*(row[i] for i in keep))
        return table

    probe = Console(width=max(width, 1) * 4)  # wide enough to measure any table without it being squeezed

    def table_width(keep: list[int], widths: dict[int, int]) -> int:
        return Measurement.get(probe, probe.options, build(keep, widths, None)).maximum

    keep = list(range(len(columns)))
    if table_width(keep, dict(enumerate(full))) <= width:
        return build(keep, dict(enumerate(full)), None)
    rank = {key: n for n, key in enumerate(TERMINAL_DROP_ORDER)}
    droppable = sorted(
        (i for i, (key, _, _) in enumerate(columns) if key not in essential),
        key=lambda i: (rank.get(columns[i][0], -1), i),  # columns not in the list (new ones) go first
    )
    widths = dict(enumerate(least))
    dropped = []
    while table_width(keep, widths) > width and droppable:
        dropped.append(droppable.pop(0))
        keep.remove(dropped[-1])
    # A narrow column dropped early may fit once a wider one is gone: offer them back, most valuable first.
    for i in reversed(dropped[:-1]):
        if table_width(sorted([*keep, i]), widths) <= width:
            keep = sorted([*keep, i])
    # Give the room left back, left to right, so fewer headers (and method names) wrap.
    spare = width - table_width(keep, widths)
    for i in keep:
        grow = min(max(spare, 0), full[i] - widths[i])
        widths[i] += grow
        spare -= grow
    hidden = [label for i, (_, label, _) in enumerate(columns) if i not in keep]
    caption = f"not shown at this width: {', '.join(hidden)} (all columns: report.md)" if hidden else None
    return build(keep, widths, caption)


def print_table(console, rows: list[dict[str, Any]], task: str, title: str | None = None) -> None:
    """Print the comparison table on `console`, fitted to its width (see terminal_table)."""
    from rich.measure import Measurement

    table = terminal_table(rows, task, console.width, title)
    if Measurement.get(console, console.options.update_width(console.width * 4), table).maximum <= console.width:
        console.print(table)
        return
    # Too narrow for even the method and quality columns: one line per method, wrapped at spaces, numbers whole.
    columns = columns_for(rows, task)
    if title:
        console.print(title)
    for cells in table_rows(rows, task):
        console.print("; ".join(f"{label} {cell}" for (_, label, _), cell in zip(columns, cells)), highlight=False)


def _context_lines(config: CompareConfig, rows: list[dict[str, Any]]) -> list[str]:
    hw = hardware()
    bench = task_bench(config.task)
    count = rows[0].get("num_queries")
    lines = [
        f"Task `{config.task}`, dataset `{config.dataset}`, {'?' if count is None else count} {plural(bench.unit, count)}"
        + (f" (limited to {config.limit_queries})" if config.limit_queries else "")
        + (f", top {config.limit_candidates} candidates each" if config.limit_candidates else ""),
        f"Machine: {hw.get('cpu_model')} ({hw.get('cpu_count')} cores), torch threads {hw.get('torch_threads')}, "
        f"Python {platform.python_version()}; generated {time.strftime('%Y-%m-%d %H:%M')}",
        f"Latency: {bench.latency_note}; cost per 1M {plural(bench.unit)} at "
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
    bench = task_bench(config.task)
    statistics = significance.annotate(rows, bench.primary, bench.greater_is_better)
    for row in rows:
        if row.get("ci_low") is not None:
            row["ci"] = f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]"
    verdict = _verdict(config, rows)
    context = _context_lines(config, rows) + significance.noise_lines(rows, statistics, bench.primary)
    if verdict is not None:
        context.append(f"Verdict: {verdict.reason}.")
    atomic_write_json(out_dir / "results.json", {
        "config": config.model_dump(), "rows": rows, "statistics": statistics,
        "verdict": verdict.to_dict() if verdict is not None else None,
    })
    # Only re-ranking rows with quantized variants get the ablation table.
    ablation = write_ablation(rows, out_dir, config.dataset) if config.task == "rerank" else {}
    atomic_write_text(out_dir / "report.md", _markdown(title, context, rows, charts, config.task))
    atomic_write_text(out_dir / "report.html", _html(title, context, rows, charts, config.task))
    return {"markdown": out_dir / "report.md", "html": out_dir / "report.html", **charts, **ablation}


def _verdict(config: CompareConfig, rows: list[dict[str, Any]]):
    """The recommendation under the config's budget (none without a budget)."""
    if config.budget is None:
        return None
    bench = task_bench(config.task)
    return recommend(rows, Budget(**config.budget.model_dump()), bench.primary, bench.greater_is_better)


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


_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline_html(text: str) -> str:
    """The little inline Markdown the report's text uses, as HTML: `code` and **bold**; everything else escaped."""
    parts = _CODE.split(text)  # even indexes: prose, odd: the insides of `...`
    return "".join(
        f"<code>{html.escape(part)}</code>" if i % 2 else _BOLD.sub(r"<strong>\1</strong>", html.escape(part))
        for i, part in enumerate(parts)
    )


def _script_json(value: Any) -> str:
    """JSON safe inside <script>: a script's text is not entity-decoded, so escape with JSON's own \\u escapes."""
    text = json.dumps(value, default=str)
    for char in "<>&`":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _html(title: str, context: list[str], rows: list[dict[str, Any]], charts: dict[str, Path], task: str) -> str:
    esc = html.escape
    head = "".join(f"<th>{inline_html(label)}</th>" for _, label, _ in columns_for(rows, task))
    body = "".join(
        "<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in cells) + "</tr>" for cells in table_rows(rows, task)
    )
    images = "".join(
        f"<h2>{esc(name)}</h2><img alt='{esc(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(path.read_bytes()).decode()}'/>"
        for name, path in charts.items()
    )
    items = "".join(f"<li>{inline_html(c)}</li>" for c in context)
    style = (
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}"
        "img{max-width:100%}code{font-family:ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}"
    )
    data = _script_json(rows)
    plain_title = _CODE.sub(r"\1", title)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(plain_title)}</title>"
        f"<style>{style}</style></head>"
        f"<body><h1>{inline_html(title)}</h1><ul>{items}</ul><table><tr>{head}</tr>{body}</table>{images}"
        f"<script type='application/json' id='results'>{data}</script></body></html>\n"
    )
