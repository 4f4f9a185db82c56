"""Run folders: manifest.json (what ran, on what, with which versions), metrics.json, artifacts.

The one place that knows the layout. A training run adds `train_config.json` (method, train config, labels) and
`adapter/` (LoRA, QLoRA: PEFT format) or `model/` (full fine-tuning: a save_pretrained folder), plus
`curves.jsonl` and `checkpoints/`. Every write is atomic (temp file + rename).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json
from loralab.errors import ModelError

_PACKAGES = (
    "loralab", "torch", "transformers", "peft", "accelerate", "bitsandbytes", "torchao",
    "sentence-transformers", "ir-measures", "bm25s", "numpy",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def hardware() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
    }
    try:
        import psutil

        info["memory_bytes"] = psutil.virtual_memory().total
    except ImportError:
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        pass
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def slugify(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-").lower() or "run"


TRAIN_CONFIG = "train_config.json"
# What each training task's artifact is, as a model: the head `loralab.artifacts.load` builds for it.
TASK_HEADS = {"rerank": "sequence-classifier", "classify": "sequence-classifier", "preference": "siamese",
              "regress": "causal-lm", "sft": "causal-lm"}


@dataclass
class RunFolder:
    path: Path

    @classmethod
    def open(cls, path: str | Path) -> RunFolder | None:
        """The training run at `path`, or None when `path` is not one (no train_config.json)."""
        folder = Path(str(path)).expanduser()
        return cls(folder) if (folder / TRAIN_CONFIG).is_file() else None

    @property
    def train_config(self) -> dict[str, Any]:
        try:
            return json.loads((self.path / TRAIN_CONFIG).read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"{self.path / TRAIN_CONFIG}: unreadable run config ({exc})") from None

    @property
    def task(self) -> str:
        return self.train_config.get("train", {}).get("task", "rerank")

    @property
    def head(self) -> str:
        if self.task == "rerank" and self.train_config.get("train", {}).get("rerank", {}).get("ranker") == "bi-encoder":
            return "encoder"  # a bi-encoder re-ranker is an embedding model (models.pair_encoder)
        return TASK_HEADS.get(self.task, "sequence-classifier")

    @property
    def method(self) -> dict[str, Any]:
        """The method config as recorded (`kind`: full, lora or qlora, and its options)."""
        return self.train_config.get("method", {})

    @property
    def base(self) -> str:
        """The backbone spec the run was trained from."""
        return self.train_config["train"]["model"]

    @property
    def num_labels(self) -> int | None:
        return self.train_config.get("num_labels")

    @property
    def max_length(self) -> int | None:
        return self.train_config.get("train", {}).get("max_length")

    @property
    def adapter_dir(self) -> Path | None:
        folder = self.path / "adapter"
        return folder if (folder / "adapter_config.json").is_file() else None

    @property
    def model_dir(self) -> Path | None:
        folder = self.path / "model"
        return folder if (folder / "config.json").is_file() else None

    @property
    def artifact_dir(self) -> Path:
        folder = self.adapter_dir or self.model_dir
        if folder is None:
            raise ModelError(f"{self.path}: a run folder without adapter/ or model/ (training did not finish?)")
        return folder

    @property
    def metrics(self) -> dict[str, Any]:
        path = self.path / "metrics.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    @classmethod
    def create(cls, root: Path, name: str) -> RunFolder:
        """A new folder `root/<name>`; adds a timestamp suffix instead of overwriting an existing run."""
        root = Path(root)
        path = root / slugify(name)
        if path.exists():
            path = root / f"{slugify(name)}-{time.strftime('%Y%m%d-%H%M%S')}"
        path.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def write_manifest(self, config: dict[str, Any], data_files: list[Path], seed: int | None = None) -> None:
        atomic_write_json(
            self.path / "manifest.json",
            {
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "command_line": sys.argv,
                "config": config,
                "seed": seed,
                "git_sha": git_sha(),
                "packages": package_versions(),
                "hardware": hardware(),
                "data_sha256": {str(p.name if p.parent.name != "qrels" else f"qrels/{p.name}"): sha256_file(p) for p in data_files},
            },
        )

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        atomic_write_json(self.path / "metrics.json", metrics)
