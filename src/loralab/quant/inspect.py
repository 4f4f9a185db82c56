"""What a model costs and what quantization does to it: parameters by layer type, bytes on disk and in memory,
bits per parameter, footprints at 32/16/8/4 bits, and per-layer relative error ||W - W_hat|| / ||W||."""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch

from loralab.models.memory import parameter_bytes
from loralab.quant.api import quant_config_of
from loralab.quant.configs import config_to_dict
from loralab.quant.linears import quantizable_linears

# The QLoRA paper's accounting for NF4 + double quantization: 4-bit weights, an 8-bit scale per block of 64,
# and a 32-bit scale per 256 of those scales.
NF4_DQ_BITS = 4 + 8 / 64 + 32 / (64 * 256)
FOOTPRINT_BITS = (32, 16, 8, 4)


def parameters_by_type(model) -> dict[str, int]:
    """Logical parameter count per module class (each tensor counted once, tied weights once)."""
    counts: Counter[str] = Counter()
    seen: set[int] = set()
    for module in model.modules():
        for param in module.parameters(recurse=False):
            if id(param) not in seen:
                seen.add(id(param))
                counts[type(module).__name__] += _numel(param)
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            weight, bias = packed._weight_bias()
            counts[type(module).__name__] += weight.numel() + (bias.numel() if bias is not None else 0)
    return dict(counts.most_common())


def _numel(param) -> int:
    state = getattr(param, "quant_state", None)
    return int(torch.Size(state.shape).numel()) if state is not None else param.numel()


def footprints(num_params: int) -> dict[str, int]:
    """Weight bytes if every parameter were stored at 32/16/8/4 bits, and at NF4 + double quant."""
    out = {f"{bits}-bit": num_params * bits // 8 for bits in FOOTPRINT_BITS}
    out["nf4+dq"] = int(num_params * NF4_DQ_BITS / 8)
    return out


def dequantized_weight(module) -> torch.Tensor:
    """The float weight a (possibly quantized) linear layer computes with."""
    from loralab.quant.backends import bnb

    weight = module.weight
    if getattr(weight, "quant_state", None) is not None:
        return bnb.dequantized_weight(module)
    if callable(weight):  # torch.ao dynamic linear: weight() unpacks the int8 tensor
        weight = weight()
    if hasattr(weight, "dequantize"):
        weight = weight.dequantize()
    return weight.detach().float()


def layer_errors(reference: dict[str, torch.Tensor], quantized_model) -> list[dict[str, Any]]:
    """Relative Frobenius error per layer, worst first."""
    modules = dict(quantized_model.named_modules())
    rows = []
    for name, weight in reference.items():
        approx = dequantized_weight(modules[name]).reshape(weight.shape)
        rows.append({"layer": name, "shape": list(weight.shape),
                     "rel_error": float(torch.linalg.norm(weight - approx) / torch.linalg.norm(weight))})
    return sorted(rows, key=lambda r: -r["rel_error"])


def float_weights(model) -> dict[str, torch.Tensor]:
    """The reference weights of every quantizable linear layer (taken before quantizing)."""
    return {name: layer.weight.detach().float().clone() for name, layer in quantizable_linears(model)}


def analyze(model, reference: dict[str, torch.Tensor] | None = None, bytes_on_disk: int | None = None,
            top: int = 5) -> dict[str, Any]:
    """What `model` stores and computes with; with `reference` (float weights by layer), per-layer errors."""
    by_type = parameters_by_type(model)
    num_params = sum(by_type.values())
    stored = parameter_bytes(model)
    report: dict[str, Any] = {
        "quantization": config_to_dict(quant_config_of(model)) if quant_config_of(model) else None,
        "num_params": num_params,
        "params_by_type": by_type,
        "bytes_in_memory": stored["total"],
        "bytes_on_disk": bytes_on_disk,
        "bits_per_param": stored["total"] * 8 / max(num_params, 1),
        "quantized_linear_bytes": stored["quantized_linear"],
        "quantized_linear_fp32_bytes": stored["quantized_linear_fp32_equiv"],
        "footprint_bytes": footprints(num_params),
        "nf4_dq_bits_qlora_paper": NF4_DQ_BITS,
    }
    if stored["quantized_linear_fp32_equiv"]:
        report["quantized_linear_bits_per_param"] = 32 * stored["quantized_linear"] / stored["quantized_linear_fp32_equiv"]
        report["quantized_linear_ratio_vs_fp32"] = stored["quantized_linear"] / stored["quantized_linear_fp32_equiv"]
    if reference is not None:
        errors = layer_errors(reference, model)
        report["mean_rel_error"] = sum(e["rel_error"] for e in errors) / max(len(errors), 1)
        report["worst_layers"] = errors[:top]
        report["num_layers_compared"] = len(errors)
    return report
