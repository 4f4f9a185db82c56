"""PEFT adapters as models: a LoRA run or a bare adapter folder, on the base it was trained on.

A QLoRA adapter goes onto the same 4-bit NF4 base it was trained on (unmerged: merging into a 4-bit base after a
forward gives garbage with bnb), so evaluation measures what was trained; a LoRA adapter is merged for speed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import torch

from loralab.artifacts.run_folder import RunFolder
from loralab.errors import ModelError
from loralab.models.four_bit import FourBitBase, disable_packed_cpu_path


@dataclass
class AdapterSource:
    base: str  # backbone spec (alias, folder or hub id)
    adapter_dir: Path
    method: dict = field(default_factory=dict)  # the run's method config ({} for a bare adapter)
    num_labels: int | None = None
    run: RunFolder | None = None

    @property
    def qlora(self) -> bool:
        return self.method.get("kind") == "qlora"


def find_adapter(spec: str | Path) -> AdapterSource | None:
    """The adapter of a LoRA/QLoRA run folder or of a bare PEFT folder; None for anything else."""
    path = Path(str(spec))
    run = RunFolder.open(path)
    if run is not None and run.adapter_dir is not None:
        return AdapterSource(run.base, run.adapter_dir, run.method, run.num_labels, run)
    if (path / "adapter_config.json").is_file():
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base:
            raise ModelError(f"{path}/adapter_config.json: no base_model_name_or_path; cannot tell which base to load")
        return AdapterSource(base, path)
    return None


def load_trained_base(factory, source: AdapterSource, base_path: str, keep_full: tuple[str, ...] = (), **kwargs):
    """The base an adapter was trained on: float, or for a QLoRA run the same 4-bit base."""
    kwargs.setdefault("dtype", torch.float32)
    four_bit = FourBitBase.from_method(source.method, keep_full)
    if four_bit is not None:
        kwargs |= four_bit.from_pretrained_kwargs()
    base = factory.from_pretrained(base_path, **kwargs)
    if four_bit is not None:
        disable_packed_cpu_path(base)
    return base


def apply_adapter(base, source: AdapterSource, merge: bool = True):
    """The adapter on `base`, in eval mode; LoRA on a full-precision base is merged for inference speed."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(base, str(source.adapter_dir))
    return (model if source.qlora or not merge else model.merge_and_unload()).eval()
