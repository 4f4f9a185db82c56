"""The study's deliverables in its folder: method_comparison.md, quantization_ablation.md, lora_vs_qlora.md,
report.html with charts, results.json (rows, statistics, verdict) and winner/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json, atomic_write_text
from loralab.compare.config import CompareConfig
from loralab.compare.report import write_report
from loralab.compare.task_tables import task_bench
from loralab.study.spec import TRAINED, StudySpec
from loralab.study.steps import Step
from loralab.tasks.rows import training_columns

def study_rows(steps: list[Step]) -> list[dict[str, Any]]:
    """The evaluated rows, in study order; a failed step is a row marked failed with its reason."""
    rows: list[dict[str, Any]] = []
    for step in (s for s in steps if s.kind == "evaluate"):
        state = step.state()
        if state.get("status") == "done":
            # Training columns are read from the run again, so a cached row has those the current code reports.
            rows += [{**row, **training_columns(row.get("model"))}
                     for row in json.loads((step.folder / "rows.json").read_text())]
        else:
            reason = state.get("reason", "not run")
            rows.append({"method": step.name, "candidate": step.config["candidate"], "ranker": step.config["ranker"],
                         "method_family": step.config["method"], "quantization": step.config["quantization"],
                         "failed": reason, "notes": [f"failed: {reason}"]})
    return rows


def write_study_report(spec: StudySpec, steps: list[Step], out: Path) -> dict[str, Any]:
    rows = study_rows(steps)
    scored = [r for r in rows if not r.get("failed")]
    if not scored:
        atomic_write_json(out / "results.json", {"rows": rows, "verdict": None, "statistics": None})
        return {"rows": rows, "verdict": None}
    config = CompareConfig(
        task=spec.task, dataset=spec.data.test, price_per_hour=spec.price_per_hour, title=spec.title,
        limit_queries=spec.limit_queries, limit_candidates=spec.limit_candidates,
        budget=spec.budget.model_dump() if spec.budget else None,
        methods=[{"name": r["method"], "ranker": r.get("ranker") or "bm25"} for r in scored],
    )
    paths = write_report(config, scored, out)
    Path(paths["markdown"]).replace(out / "method_comparison.md")
    failed = [r for r in rows if r.get("failed")]
    if failed:
        with open(out / "method_comparison.md", "a", encoding="utf-8") as handle:
            handle.write("## Failed candidates\n\n" + "".join(f"- {r['method']}: {r['failed']}\n" for r in failed))
    atomic_write_text(out / "lora_vs_qlora.md", lora_vs_qlora(spec, scored))
    if spec.task != "rerank" or not (out / "quantization_ablation.md").is_file():  # compare writes re-ranking's
        atomic_write_text(out / "quantization_ablation.md", quantization_ablation(spec, scored))
    results = json.loads((out / "results.json").read_text())
    results["rows"] = scored + failed
    from loralab.study.ship import ship_winner

    results["winner"] = ship_winner(spec, results, out)
    atomic_write_json(out / "results.json", results)
    return results


def lora_vs_qlora(spec: StudySpec, rows: list[dict[str, Any]]) -> str:
    """Trained candidates side by side: training time and memory, quality, trainable parameters, stored bytes."""
    primary = task_bench(spec.task).primary
    trained = [r for r in rows if r.get("method_family") in TRAINED and not r.get("study_quantization")]
    lines = ["# LoRA vs QLoRA (and full fine-tuning)", ""]
    if not trained:
        return "\n".join(lines + ["No trained candidate in this study.", ""])
    head = ["candidate", "method", primary, "train s", "train peak RSS MB", "trainable params", "trainable %",
            "adapter MB", "base MB (as trained)"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in trained:
        cells = [row["method"], row.get("method_kind") or row["method_family"], _fmt(row.get(primary), "{:.4f}"),
                 _fmt(row.get("train_seconds"), "{:.0f}"), _fmt(row.get("train_peak_rss_mb"), "{:.0f}"),
                 _fmt(row.get("trainable_params"), "{:,}"), _fmt(row.get("trainable_percent"), "{:.2f}"),
                 _fmt(row.get("adapter_mb"), "{:.2f}"), _fmt(row.get("base_mb"), "{:.1f}")]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Base MB: the frozen base's stored weights during training (QLoRA: 4-bit, quantization "
              "metadata included). Differences in the primary metric come with their significance in "
              "method_comparison.md.", ""]
    return "\n".join(lines)


def quantization_ablation(spec: StudySpec, rows: list[dict[str, Any]]) -> str:
    """Each post-training variant against its own float model: quality change, size and speed ratios."""
    bench = task_bench(spec.task)
    primary, (speed, speed_label, _) = bench.primary, bench.speed_columns[2]  # the throughput column
    floats = {r["candidate"]: r for r in rows if not r.get("study_quantization")}
    lines = ["# Quantization ablation", ""]
    pairs = [(floats[r["candidate"]], r) for r in rows if r.get("study_quantization") and r["candidate"] in floats]
    if not pairs:
        return "\n".join(lines + ["No quantized variant was evaluated next to its float model in this study.", ""])
    head = ["variant", primary, f"Δ {primary}", "size MB", "size ×", f"{speed_label} ×"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for base, row in pairs:
        ratio = lambda key: (row[key] / base[key]) if row.get(key) and base.get(key) else None  # noqa: E731
        lines.append("| " + " | ".join([row["method"], _fmt(row.get(primary), "{:.4f}"),
                                        _fmt(row[primary] - base[primary], "{:+.4f}"), _fmt(row.get("size_mb"), "{:.1f}"),
                                        _fmt(ratio("size_mb"), "{:.2f}"), _fmt(ratio(speed), "{:.2f}")]) + " |")
    lines += ["", "Δ is against the same candidate in float; whether it is noise: the p-values in "
              "method_comparison.md.", ""]
    return "\n".join(lines)


def _fmt(value, fmt: str) -> str:
    return "—" if value is None else fmt.format(value)
