"""PNG charts for the comparison report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def quality_vs_latency(rows: list[dict[str, Any]], path: Path, metric: str = "ndcg@10") -> Path:
    """Scatter of quality against p50 latency; methods with no measured latency become horizontal lines."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    timed = [r for r in rows if r.get("p50_ms") is not None and r.get(metric) is not None]
    for row in timed:
        ax.scatter(row["p50_ms"], row[metric], s=60, zorder=3)
        ax.annotate(row["method"], (row["p50_ms"], row[metric]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    for row in rows:
        if row.get("p50_ms") is None and row.get(metric) is not None:
            ax.axhline(row[metric], linestyle="--", color="grey", linewidth=1)
            ax.annotate(f"{row['method']} (first stage, as given)", (0.01, row[metric]), xycoords=("axes fraction", "data"),
                        textcoords="offset points", xytext=(0, 4), fontsize=8, color="grey")
    ax.set_xlabel("latency, p50 (ms per query, item or pair; see the report)")
    ax.set_ylabel(metric.upper())
    if timed and max(r["p50_ms"] for r in timed) / max(min(r["p50_ms"] for r in timed), 1e-9) > 50:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    ax.set_title("Quality vs latency")
    return _save(fig, path)


def memory_bars(rows: list[dict[str, Any]], path: Path) -> Path:
    """Peak RSS and model size on disk per method, side by side."""
    names = [r["method"] for r in rows]
    rss = [r.get("peak_rss_mb") or 0 for r in rows]
    size = [r.get("size_mb") or 0 for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], rss, width=0.4, label="peak RSS (MB)")
    ax.bar([x + 0.2 for x in xs], size, width=0.4, label="model size on disk (MB)")
    ax.set_xticks(list(xs), names, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("MB")
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    ax.set_title("Memory")
    return _save(fig, path)


def training_curves(rows: list[dict[str, Any]], path: Path) -> Path:
    """Training loss and held-out metric per step, one line per trained method."""
    import json

    fig, (loss_ax, eval_ax) = plt.subplots(1, 2, figsize=(10, 4), dpi=120)
    for row in rows:
        if not row.get("curves") or not Path(row["curves"]).is_file():
            continue
        points = [json.loads(line) for line in Path(row["curves"]).read_text().splitlines() if line.strip()]
        train = [(p["step"], p["loss"]) for p in points if "loss" in p]
        evals = [(p["step"], v) for p in points for k, v in p.items() if k in ("eval_mrr", "eval_accuracy")]
        if train:
            loss_ax.plot(*zip(*train), label=row["method"])
        if evals:
            eval_ax.plot(*zip(*evals), marker="o", label=row["method"])
    loss_ax.set(title="training loss", xlabel="step")
    eval_ax.set(title="held-out metric (MRR of the positive / accuracy)", xlabel="step")
    for ax in (loss_ax, eval_ax):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    path = Path(path)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)
    return path
