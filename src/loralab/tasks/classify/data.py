"""Sequence classification (sentiment first): {text, label} examples, accuracy and macro-F1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from loralab.data.jsonl import iter_jsonl, require_str
from loralab.data.registry import get_spec
from loralab.errors import DataError


@dataclass
class LabeledText:
    text: str
    label: int


def read_labeled_jsonl(path: Path) -> list[LabeledText]:
    examples = []
    for lineno, row in iter_jsonl(path):
        label = row.get("label")
        if not isinstance(label, int) or isinstance(label, bool) or label < 0:
            raise DataError(f"{path}:{lineno}: field 'label' must be a non-negative integer, got {label!r}")
        examples.append(LabeledText(require_str(row, "text", path, lineno), label))
    if not examples:
        raise DataError(f"{path}: no examples")
    return examples


def _split_file(folder: Path, split: str) -> Path:
    matches = sorted(folder.glob(f"{split}.jsonl*"))
    if not matches:
        have = sorted({p.name.split(".")[0] for p in folder.glob("*.jsonl*")})
        raise DataError(f"{folder}: no '{split}' split (available: {', '.join(have) or 'none'})")
    return matches[0]


def load_labeled(spec: str, split: str) -> list[LabeledText]:
    """A registered classification dataset (sst2, imdb) by name, or a folder of <split>.jsonl[.gz] files."""
    path = Path(spec)
    if path.is_file():
        return read_labeled_jsonl(path)
    folder = path if path.is_dir() else get_spec(spec).folder
    return read_labeled_jsonl(_split_file(folder, split))


class TokenizedTexts(torch.utils.data.Dataset):
    """Pre-tokenized examples; `input_ids` lengths drive the Trainer's length-grouped sampler."""

    def __init__(self, examples: list[LabeledText], tokenizer, max_length: int):
        encoded = tokenizer([e.text for e in examples], truncation=True, max_length=max_length)
        self.features = [
            {**{k: encoded[k][i] for k in encoded.keys()}, "labels": e.label} for i, e in enumerate(examples)
        ]

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> dict:
        return self.features[i]


def classification_metrics(eval_pred) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    preds = np.argmax(logits, axis=-1)
    return {
        "accuracy": float(accuracy_score(eval_pred.label_ids, preds)),
        "macro_f1": float(f1_score(eval_pred.label_ids, preds, average="macro")),
    }
