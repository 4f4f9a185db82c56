"""optimum-quanto: int4 weight-only (group-wise qint4) and int8 static (qint8 weights + calibrated activations).

quanto's qint4 matmul fails under `torch.inference_mode()` ("Cannot set version_counter for inference
tensor"): run quanto models under `torch.no_grad()`, as loralab's rankers do.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from loralab.errors import QuantizationError
from loralab.optional import require
from loralab.quant.configs import Int4WeightOnly, Int8Static
from loralab.quant.linears import quantizable_linears
from loralab.quant.registry import register_backend


@register_backend(Int4WeightOnly)
def apply_int4(model, config: Int4WeightOnly, calibration=None):
    return quantize_int4(model, config.group_size)


@register_backend(Int8Static)
def apply_int8_static(model, config: Int8Static, calibration: Iterable[dict] | None = None):
    return quantize_int8_static(model, config, calibration)


def _quanto():
    return require("optimum.quanto", "quant", "int4-weight-only / int8-static", "optimum-quanto")


def quantize_int4(model, group_size: int):
    quanto = _quanto()
    names = check_group_size(model, group_size)
    quanto.quantize(model, weights=quanto.qint4, include=names)
    set_group_size(model, names, group_size)
    quanto.freeze(model)
    return model


def check_group_size(model, group_size: int) -> list[str]:
    layers = quantizable_linears(model)
    if group_size < 8 or group_size % 8:
        raise QuantizationError(f"int4-weight-only: group_size must be a positive multiple of 8, got {group_size}")
    for name, layer in layers:
        if layer.in_features % group_size:
            divisors = [g for g in (256, 128, 64, 32, 16) if layer.in_features % g == 0]
            raise QuantizationError(
                f"int4-weight-only: group_size {group_size} does not divide in_features {layer.in_features} of layer "
                f"'{name}'; pick one that divides every layer (e.g. {', '.join(map(str, divisors[:3])) or 'a smaller one'})"
            )
    return [name for name, _ in layers]


def set_group_size(model, names: list[str], group_size: int) -> None:
    """quanto picks its own group size (<=128) at wrap time; the config's group size wins before freezing."""
    modules = dict(model.named_modules())
    for name in names:
        modules[name].weight_group_size = group_size


def quantize_int8_static(model, config: Int8Static, calibration: Iterable[dict] | None):
    if calibration is None:
        raise QuantizationError(
            "int8-static needs calibration inputs to fix activation scales: pass calibration=<batches of model "
            "inputs> (loralab.quant.calibration.calibration_batches builds them from SciFact training pairs)"
        )
    quanto = _quanto()
    names = [name for name, _ in quantizable_linears(model)]
    quanto.quantize(model, weights=quanto.qint8, activations=quanto.qint8, include=names)
    seen = 0
    with quanto.Calibration(), torch.no_grad():
        for batch in calibration:
            model(**batch)
            seen += len(next(iter(batch.values())))
            if seen >= config.calibration_samples:
                break
    if seen == 0:
        raise QuantizationError("int8-static: the calibration inputs were empty")
    quanto.freeze(model)
    return model
