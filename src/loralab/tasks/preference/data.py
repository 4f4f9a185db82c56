"""Pairwise preference: which of two responses to one prompt people preferred (A, B or tie).

Readers for JSONL ({prompt, response_a, response_b, winner}) and the Kaggle / LMSYS arena CSV layout
(prompt, response_a, response_b, winner_model_a, winner_model_b, winner_tie; cells may be JSON lists of
turns), a seeded split by prompt (no prompt in two splits), and the metrics.
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from loralab.data.jsonl import iter_jsonl, iter_lines, require_str
from loralab.errors import DataError

LABELS = ("a", "b", "tie")  # class index = position; the tie class stays even when the data has none
SPLITS = ("train", "validation", "test")
SPLIT_SEED = 13  # fixed: training and evaluation must agree on which prompts are held out
ARENA_COLUMNS = ("prompt", "response_a", "response_b", "winner_model_a", "winner_model_b", "winner_tie")


@dataclass(frozen=True)
class PreferencePair:
    id: str
    prompt: str
    response_a: str
    response_b: str
    winner: str  # a | b | tie

    @property
    def label(self) -> int:
        return LABELS.index(self.winner)

    def swapped(self) -> PreferencePair:
        winner = {"a": "b", "b": "a", "tie": "tie"}[self.winner]
        return PreferencePair(self.id, self.prompt, self.response_b, self.response_a, winner)


def read_preference_jsonl(path: Path) -> list[PreferencePair]:
    pairs = []
    for lineno, row in iter_jsonl(path):
        winner = row.get("winner")
        if winner not in LABELS:
            raise DataError(f"{path}:{lineno}: field 'winner' must be one of {', '.join(LABELS)}, got {winner!r}")
        texts = [require_str(row, key, path, lineno) for key in ("prompt", "response_a", "response_b")]
        pairs.append(PreferencePair(str(row.get("id", f"{path.name}:{lineno}")), *texts, winner))
    if not pairs:
        raise DataError(f"{path}: no preference pairs")
    return pairs


def read_arena_csv(path: Path) -> list[PreferencePair]:
    """The Kaggle LMSYS arena layout; multi-turn cells (JSON lists) are joined turn by turn."""
    csv.field_size_limit(1 << 30)  # arena cells hold whole conversations
    pairs = []
    lines = iter_lines(path)
    reader = csv.reader(line for _, line in lines)
    try:
        header = next(reader, [])
        missing = [c for c in ARENA_COLUMNS if c not in header]
        if missing:
            raise DataError(f"{path}: missing column(s) {', '.join(missing)}; the arena layout needs {', '.join(ARENA_COLUMNS)}")
        lineno = reader.line_num + 1  # where the next record starts: quoted cells may span lines
        for cells in reader:
            if cells:
                row = dict(zip(header, cells))  # a short row lacks its last columns: reported as empty below
                flags = [_flag(row.get(c), path, lineno, c) for c in ARENA_COLUMNS[3:]]
                if sum(flags) != 1:
                    raise DataError(f"{path}:{lineno}: exactly one of winner_model_a, winner_model_b, winner_tie "
                                    f"must be 1, got {flags}")
                texts = [_turns(row.get(c), path, lineno, c) for c in ARENA_COLUMNS[:3]]
                pairs.append(PreferencePair(row.get("id") or f"{path.name}:{lineno}", *texts, LABELS[flags.index(1)]))
            lineno = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from None
    finally:
        lines.close()
    if not pairs:
        raise DataError(f"{path}: no preference pairs")
    return pairs


def _flag(value: str | None, path: Path, lineno: int, column: str) -> int:
    text = (value or "").strip()
    if text not in ("0", "1", "0.0", "1.0"):
        raise DataError(f"{path}:{lineno}: column '{column}' must be 0 or 1, got {value!r}")
    return int(float(text))


def _turns(cell: str | None, path: Path, lineno: int, column: str) -> str:
    """A plain string, or a JSON list of turns (Kaggle writes null for a missing turn)."""
    text = (cell or "").strip()
    if text.startswith("["):
        try:
            turns = json.loads(text)
        except json.JSONDecodeError:
            return text  # a string that only looks like a list
        if isinstance(turns, list):
            text = "\n\n".join(t for t in turns if isinstance(t, str))
    if not text.strip():  # a list of turns can join to blanks: ["\n", null]
        raise DataError(f"{path}:{lineno}: column '{column}' is empty")
    return text


def read_pairs(path: Path) -> list[PreferencePair]:
    path = Path(path)
    if path.name.endswith((".csv", ".csv.gz")):
        return read_arena_csv(path)
    return read_preference_jsonl(path)


def load_pairs(spec: str, split: str, seed: int = SPLIT_SEED, fractions: tuple[float, float] = (0.8, 0.1)) -> list[PreferencePair]:
    """A split of a registered dataset (hh-rlhf-pairs), a folder, or one file.

    A folder with <split>.jsonl / .csv files uses them; otherwise all pairs are split by prompt here.
    """
    if split not in SPLITS:
        raise DataError(f"unknown split '{split}'; choose one of: {', '.join(SPLITS)}")
    path = Path(spec)
    if not path.exists():
        from loralab.data.registry import get_spec

        path = get_spec(spec).folder
    files = [path] if path.is_file() else sorted(p for p in path.iterdir() if p.name.endswith((".jsonl", ".jsonl.gz", ".csv", ".csv.gz")))
    if not files:
        raise DataError(f"{path}: no .jsonl or .csv files with preference pairs")
    named = [f for f in files if f.name.split(".")[0] == split]
    if named and len(files) > 1:
        chosen = read_pairs(named[0])
    else:
        chosen = split_by_prompt([p for f in files for p in read_pairs(f)], seed, fractions)[SPLITS.index(split)]
    # Files are often grouped by source (HH-RLHF: harmless first, then helpful): a seeded shuffle makes
    # "the first N pairs" (max_eval_examples, --limit) a fair sample instead of one subset.
    random.Random(seed).shuffle(chosen)
    return chosen


def split_by_prompt(pairs: list[PreferencePair], seed: int, fractions: tuple[float, float]) -> tuple[list, list, list]:
    """Seeded train/validation/test split of the prompts, so no prompt appears in two splits."""
    prompts = sorted({p.prompt for p in pairs})
    random.Random(seed).shuffle(prompts)
    cut_train = int(len(prompts) * fractions[0])
    cut_val = cut_train + int(len(prompts) * fractions[1])
    where = {prompt: (0 if i < cut_train else 1 if i < cut_val else 2) for i, prompt in enumerate(prompts)}
    splits: tuple[list, list, list] = ([], [], [])
    for pair in pairs:
        splits[where[pair.prompt]].append(pair)
    return splits


def swap_classes(probs: np.ndarray) -> np.ndarray:
    """Class probabilities of the swapped pair, expressed for the original order (A <-> B)."""
    return probs[:, [1, 0, 2]]


def preference_metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy and log loss over the 3 classes; decisive accuracy: on non-tie pairs, A vs B only."""
    from sklearn.metrics import log_loss

    probs = np.clip(np.asarray(probs, dtype=np.float64), 1e-7, 1.0)
    probs = probs / probs.sum(axis=1, keepdims=True)
    labels = np.asarray(labels)
    decisive = labels != LABELS.index("tie")
    ab = probs[decisive, :2].argmax(axis=1)
    return {
        "accuracy": float((probs.argmax(axis=1) == labels).mean()),
        "log_loss": float(log_loss(labels, probs, labels=list(range(len(LABELS))))),
        "decisive_accuracy": float((ab == labels[decisive]).mean()) if decisive.any() else float("nan"),
        "num_pairs": int(len(labels)),
    }
