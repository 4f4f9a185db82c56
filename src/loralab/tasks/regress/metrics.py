"""Price prediction quality: MAE, RMSLE, hit rate (within 20% or £5), and a truth-vs-prediction scatter."""

from __future__ import annotations

from pathlib import Path

import numpy as np

HIT_RELATIVE = 0.20
HIT_ABSOLUTE = 5.0  # small prices: within £5 counts as a hit even when it is more than 20% off


def hits(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    err = np.abs(pred - truth)
    return (err <= HIT_ABSOLUTE) | (err <= HIT_RELATIVE * truth)


def regression_metrics(truth, pred, unparsed: int = 0) -> dict[str, float | int]:
    """Over every item; unparseable predictions were replaced by the fallback before this and are counted."""
    truth = np.asarray(truth, dtype=float)
    pred = np.maximum(np.asarray(pred, dtype=float), 0.0)  # a negative price has no log; clamp as RMSLE expects
    return {
        "mae": float(np.mean(np.abs(pred - truth))),
        "rmsle": float(np.sqrt(np.mean((np.log1p(pred) - np.log1p(truth)) ** 2))),
        "hit_rate": float(np.mean(hits(truth, pred))),
        "median_abs_error": float(np.median(np.abs(pred - truth))),
        "unparsed": int(unparsed),
        "num_items": int(len(truth)),
    }


def scatter_plot(truth, pred, path: Path, title: str) -> Path:
    """Log-log truth vs prediction; green = hit, orange = within 2x, red = further off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth = np.asarray(truth, dtype=float)
    pred = np.maximum(np.asarray(pred, dtype=float), 0.01)
    ratio = np.maximum(pred / np.maximum(truth, 0.01), np.maximum(truth, 0.01) / pred)
    colours = np.where(hits(truth, pred), "tab:green", np.where(ratio <= 2, "tab:orange", "tab:red"))
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.scatter(np.maximum(truth, 0.01), pred, c=colours, s=10, alpha=0.7)
    lo, hi = 0.5, max(truth.max(), pred.max()) * 1.2
    ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
    ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi), xlabel="true price (£)", ylabel="predicted (£)",
           title=title)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
