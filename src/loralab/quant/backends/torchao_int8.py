"""int8 weight-only: torchao `Int8WeightOnlyConfig` (per-channel int8 weights, float activations)."""

from __future__ import annotations

import torch

from loralab.errors import MissingDependencyError
from loralab.quant.api import Int8WeightOnly, is_skipped


def apply(model, config, calibration=None):
    if not isinstance(config, Int8WeightOnly):
        return None
    quantize_, weight_only = _torchao()
    quantize_(model, weight_only(), filter_fn=lambda module, fqn: type(module) is torch.nn.Linear and not is_skipped(fqn))
    return model


def _torchao():
    try:
        from torchao.quantization import Int8WeightOnlyConfig, quantize_
    except ImportError:
        raise MissingDependencyError("int8-weight-only needs torchao: pip install torchao") from None
    return quantize_, Int8WeightOnlyConfig
