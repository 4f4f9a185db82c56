"""Run folders: manifest.json (what ran, on what, with which versions), metrics.json, artifacts.

Every write is atomic (temp file + rename) so a killed process never leaves a half-written file.
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

_PACKAGES = (
    "loralab", "torch", "transformers", "peft", "accelerate", "bitsandbytes", "torchao",
    "sentence-transformers", "ir-measures", "bm25s", "numpy",
)


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


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


@dataclass
class RunFolder:
    path: Path

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
