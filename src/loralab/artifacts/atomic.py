"""Atomic writes: a temp file or folder next to the target, then one rename, so a kill never leaves half of it."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def save_pretrained_atomically(model, tokenizer, target: Path, extra=None) -> Path:
    """save_pretrained (safetensors) into a temp folder, then rename: a kill never leaves half a model.

    `extra(folder)` writes any further files (e.g. a head outside the model) before the rename.
    """
    target = Path(target)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    if extra is not None:
        extra(tmp)
    if target.exists():
        shutil.rmtree(target)
    os.replace(tmp, target)
    return target


def save_artifact(model, tokenizer, method, out: Path) -> Path:
    """A run's artifact: the full model (model/) or the PEFT adapter (adapter/)."""
    return save_pretrained_atomically(model, tokenizer, Path(out) / ("model" if method.kind == "full" else "adapter"))
