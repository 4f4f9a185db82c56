"""What `loralab.artifacts.load` returns: a model, its tokenizer, and what it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from loralab.artifacts.adapters import AdapterSource
from loralab.artifacts.run_folder import RunFolder
from loralab.models.backbones import model_size_on_disk
from loralab.models.memory import parameter_bytes

HEADS = ("encoder", "sequence-classifier", "causal-lm", "siamese", "masked-lm")
QUANT_MARKER = "loralab_quant.json"  # marks a folder saved by `loralab quantize`


@dataclass
class LoadedModel:
    tokenizer: Any
    model: Any
    head: str  # one of HEADS
    source: str  # the spec it was loaded from
    path: str | None = None  # a local folder of the weights, when there is one (bytes on disk)
    run: RunFolder | None = None  # the training run it came from
    adapter: AdapterSource | None = None
    head_is_new: bool = False  # a classification head initialised just now: its scores are random
    quantization: str | None = None  # post-training quantization applied, or the QLoRA base

    @property
    def adapter_dir(self):
        """Where a trained adapter (and what it saved beside it, e.g. its prompt format) lives."""
        return self.adapter.adapter_dir if self.adapter is not None else None

    @property
    def architecture(self) -> str:  # the name quantized folders record
        return self.head

    @property
    def size_bytes(self) -> int:
        """Stored weights: bytes on disk for a float or saved quantized folder, else the bytes held in memory
        (quantization metadata included; a merged adapter is counted in its base)."""
        saved_quantized = self.path is not None and (Path(self.path) / QUANT_MARKER).is_file()
        if self.path and self.adapter is None and (self.quantization is None or saved_quantized):
            on_disk = model_size_on_disk(self.path)
            if on_disk and (saved_quantized or next(self.model.parameters()).dtype == torch.float32):
                return on_disk
        return parameter_bytes(self.model)["total"]
