"""The quantization ablation: each quantized row against the float row of the same model, from one comparison.

Written next to the report as `quantization_ablation.md` (+ `quantization_ablation.png`) when a comparison has
rows with `quantize:`; speed and size are ratios to the float row measured in the same run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loralab.compare.charts import _save, plt
from loralab.artifacts.atomic import atomic_write_text

METRIC = "ndcg@10"


def ablation_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per row that has a float baseline (same ranker and model, no quantization) in `rows`."""
    baselines = {(r["ranker"], r.get("model")): r for r in rows if not r.get("quantization") and r.get("pairs_per_s")}
    used = {(r["ranker"], r.get("model")) for r in rows if r.get("quantization")}
    out = []
    for row in rows:
        key = (row["ranker"], row.get("model"))
        base = baselines.get(key) if key in used else None
        if base is None or not row.get("pairs_per_s") or row.get(METRIC) is None or "first stage" in row["method"]:
            continue
        out.append({
            "method": row["method"],
            "quantization": row.get("quantization") or "fp32 (baseline)",
            METRIC: row[METRIC],
            "delta_points": 100 * (row[METRIC] - base[METRIC]),
            "size_mb": row.get("size_mb"),
            "size_ratio": row["size_mb"] / base["size_mb"] if row.get("size_mb") and base.get("size_mb") else None,
            "pairs_per_s": row["pairs_per_s"],
            "speedup": row["pairs_per_s"] / base["pairs_per_s"],
            "peak_rss_mb": row.get("peak_rss_mb"),
            "baseline": base["method"],
        })
    return out


def write_ablation(rows: list[dict[str, Any]], out_dir: Path, dataset: str) -> dict[str, Path]:
    entries = ablation_rows(rows)
    if not entries:
        return {}
    out_dir = Path(out_dir)
    chart = _chart(entries, out_dir / "quantization_ablation.png")
    lines = [
        f"# Quantization ablation: {dataset}", "",
        "Each row against the float row of the same model in the same run (ratios measured together). "
        "Size: bytes the weights are stored in, quantization metadata included.", "",
        f"| method | quantization | {METRIC.upper()} | Δ points | size MB | size × | pairs/s | speed × | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        lines.append(
            f"| {e['method']} | {e['quantization']} | {e[METRIC]:.4f} | {e['delta_points']:+.2f} | "
            f"{_num(e['size_mb'], '{:.1f}')} | {_num(e['size_ratio'], '{:.3f}')} | {e['pairs_per_s']:.1f} | "
            f"{e['speedup']:.2f} | {_num(e['peak_rss_mb'], '{:.0f}')} |"
        )
    lines += ["", f"![quantization ablation]({chart.name})", ""]
    path = out_dir / "quantization_ablation.md"
    atomic_write_text(path, "\n".join(lines))
    return {"quantization ablation": path, "quantization ablation chart": chart}


def _num(value, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)


def _chart(entries: list[dict[str, Any]], path: Path) -> Path:
    """Quality delta against speed-up, marker area by stored size."""
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for e in entries:
        ax.scatter(e["speedup"], e["delta_points"], s=40 + 4 * (e["size_mb"] or 0), alpha=0.7, zorder=3)
        label = f"{e['quantization']} ({e['size_mb']:.0f} MB)" if e["size_mb"] else e["quantization"]
        ax.annotate(label, (e["speedup"], e["delta_points"]), textcoords="offset points", xytext=(6, 4), fontsize=8)
    ax.axhline(0, color="grey", linewidth=1, linestyle="--")
    ax.axvline(1, color="grey", linewidth=1, linestyle="--")
    ax.set_xlabel("throughput vs float (×, pairs/s, same run)")
    ax.set_ylabel(f"Δ {METRIC.upper()} vs float (points)")
    ax.set_title("Quantization: quality vs speed (marker area ~ stored size)")
    ax.margins(x=0.3, y=0.15)  # room for the labels right of the markers
    ax.grid(True, alpha=0.3)
    return _save(fig, path)
