"""Smoothing before int8-dynamic (SmoothQuant, Xiao et al. 2023): each linear layer's input channel j is divided
by s_j = max|X_j|^alpha / max|W[:, j]|^(1 - alpha) and the weight's column j multiplied by it, an identity in
float that moves activation outliers into the weights. torch.ao's fast int8-dynamic path takes one activation
scale per batch, which a few outlier channels set: on SciFact's long abstracts that cost 2-5 NDCG@10 points even
with per-channel weights, and smoothing at alpha 0.8 brought it within 0.01-0.9 points
(experiments/qat-scifact, smooth_probe.json).

Written here because the libraries that ship SmoothQuant deploy it through their own per-token int8 kernels
(torchao's SmoothQuantConfig needs `torch._int_mm`, 2.5 GOP/s on an AVX2 CPU), not through torch.ao's kernels.
BERT is post-LayerNorm (the LayerNorm output is also the residual stream), so the division cannot be folded
into the LayerNorm as in pre-LN LLMs: it is an explicit per-channel multiply before each smoothed layer.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from loralab.errors import QuantizationError


class SmoothedInput(torch.nn.Module):
    """`linear(x * inv_scale)`; `linear`'s weight columns carry the scale. `inv_scale` is saved with the model."""

    def __init__(self, linear: torch.nn.Module, inv_scale: torch.Tensor):
        super().__init__()
        self.linear = linear
        self.register_buffer("inv_scale", inv_scale)

    def forward(self, x):
        return self.linear(x * self.inv_scale)


@torch.no_grad()
def input_absmax(model, names: list[str], calibration: Iterable[dict]) -> dict[str, torch.Tensor]:
    """Per input channel, the largest |x| each named linear layer sees over the calibration batches."""
    amax: dict[str, torch.Tensor] = {}

    def recorder(name):
        def record(module, args):
            x = args[0].detach().abs().reshape(-1, args[0].shape[-1]).amax(0).float()
            amax[name] = torch.maximum(amax[name], x) if name in amax else x
        return record

    handles = [model.get_submodule(n).register_forward_pre_hook(recorder(n)) for n in names]
    try:
        for batch in calibration:
            model(**batch)
    finally:
        for handle in handles:
            handle.remove()
    unseen = [n for n in names if n not in amax]
    if unseen:
        raise QuantizationError(f"smoothing: calibration never reached {unseen[0]} (and {len(unseen) - 1} more)")
    return amax


@torch.no_grad()
def smooth_linears(model, names: list[str], alpha: float, calibration: Iterable[dict]) -> list[str]:
    """Scales each named linear's weight columns and wraps it in SmoothedInput; returns the inner layers' names
    (the ones to quantize)."""
    amax = input_absmax(model, names, calibration)
    inner = []
    for name in names:
        linear = model.get_submodule(name)
        w_max = linear.weight.abs().amax(0).float().clamp(min=1e-5)
        scale = (amax[name].clamp(min=1e-5) ** alpha / w_max ** (1 - alpha)).clamp(min=1e-5)
        linear.weight.mul_(scale.to(linear.weight.dtype))
        inner.append(_wrap(model, name, scale))
    return inner


def restore_smoothed(model, inner_names: list[str]) -> None:
    """Loading a saved smoothed model: the same wrappers around its layers, with ones that the saved `inv_scale`
    buffers then replace."""
    for inner in inner_names:
        name = inner.removesuffix(".linear")
        _wrap(model, name, torch.ones(model.get_submodule(name).in_features))


def _wrap(model, name: str, scale: torch.Tensor) -> str:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child,
            SmoothedInput(model.get_submodule(name), 1 / scale))
    return f"{name}.linear"
