"""NF4 (+ double quantization) with bitsandbytes `Linear4bit`; works on CPU since bitsandbytes 0.45."""

from __future__ import annotations

import warnings

import torch

from loralab.models.hardware import compute_dtype
from loralab.optional import require
from loralab.quant.configs import Nf4
from loralab.quant.linears import quantizable_linears
from loralab.quant.registry import register_backend

BLOCKSIZE = 64  # bitsandbytes' default 4-bit block, as in the QLoRA paper


@register_backend(Nf4)
def apply(model, config: Nf4, calibration=None):
    bnb = _bnb()
    for name, linear in quantizable_linears(model):
        new = bnb.nn.Linear4bit(
            linear.in_features, linear.out_features, bias=linear.bias is not None, device="meta",
            compute_dtype=compute_dtype(config.compute_dtype), compress_statistics=config.double_quant,
            quant_type="nf4",
        )
        new.weight = bnb.nn.Params4bit(
            linear.weight.data.float(), requires_grad=False, blocksize=BLOCKSIZE,
            compress_statistics=config.double_quant, quant_type="nf4", module=new,
        ).to(linear.weight.device)  # moving an unquantized Params4bit quantizes it
        if linear.bias is not None:
            new.bias = torch.nn.Parameter(linear.bias.data.clone(), requires_grad=False)
        _set_module(model, name, new)
    disable_packed_path(model)
    warn_cpu_dequant(model)
    return model


def warn_cpu_dequant(model) -> None:
    """bitsandbytes 0.50's CPU dequantize (used by the forward) is wrong for weights whose rows are not a multiple
    of 64 long: relative error 0.21-0.37 instead of 0.09 on 32x32 and 48x32 layers (measured; the quantized
    bytes are right, flattening before dequantizing gives 0.09). Real models (384, 576, 768 wide) are unaffected."""
    odd = [name for name, m in nf4_layers(model) if m.in_features % BLOCKSIZE and m.weight.device.type == "cpu"]
    if odd:
        warnings.warn(
            f"nf4 on CPU: {len(odd)} layer(s) have in_features not a multiple of {BLOCKSIZE} (e.g. {odd[0]}); "
            "bitsandbytes' CPU dequantization is inaccurate for them, expect a larger error there", stacklevel=3)


def _bnb():
    return require("bitsandbytes", "quant", "nf4 (bitsandbytes >= 0.45, CPU and CUDA)")


def _set_module(model, name: str, module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, child, module)


def disable_packed_path(model) -> None:
    from loralab.models.four_bit import disable_packed_cpu_path

    disable_packed_cpu_path(model)


def nf4_layers(model) -> list[tuple[str, torch.nn.Module]]:
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return []
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Linear4bit)]


def dequantized_weight(module) -> torch.Tensor:
    """The float weight a Linear4bit computes with (undoing bnb's CPU packing first if a forward packed it)."""
    import bitsandbytes.functional as F

    data, state = module.weight.data, module.weight.quant_state
    if getattr(state, "packing_format_for_cpu", False):
        from bitsandbytes.nn.modules import _convert_weight_packed_for_cpu_inverse

        data, state = _convert_weight_packed_for_cpu_inverse(data, state)
        module.weight.data, module.weight.quant_state = data, state
    return F.dequantize_4bit(data, state).float()
