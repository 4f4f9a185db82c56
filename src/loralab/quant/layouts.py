"""Backend-specific (de)serialization of quantized weights into plain tensors for safetensors."""

from __future__ import annotations

from typing import Any

import torch

from loralab.errors import ModelError
from loralab.models.hardware import compute_dtype
from loralab.optional import require
from loralab.quant.api import quantize
from loralab.quant.configs import Bf16, Fp16, Int4WeightOnly, Int8Dynamic, Int8Static, Nf4
from loralab.quant.backends.torchao_int8 import compile_for_inference, uses_torchao


def export_state(model, config) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """(tensors, layout): everything needed to rebuild the quantized model without re-quantizing."""
    state = model.state_dict()
    layout: dict[str, Any] = {}
    if uses_torchao(config):
        from torchao.prototype.safetensors.safetensors_support import flatten_tensor_state_dict

        state, metadata = flatten_tensor_state_dict(state)
        layout["torchao"] = metadata
    elif isinstance(config, Int8Dynamic):
        from loralab.quant.backends.torch_dynamic import dynamic_linears

        state = {k: v for k, v in state.items() if isinstance(v, torch.Tensor) and "_packed_params" not in k}
        layout["layers"] = []
        for name, module in dynamic_linears(model):
            weight, bias = module._packed_params._weight_bias()
            state[f"{name}.weight.int8"] = weight.int_repr()
            if weight.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
                state[f"{name}.weight.scale"] = weight.q_per_channel_scales().to(torch.float64)
                state[f"{name}.weight.zero_point"] = weight.q_per_channel_zero_points().to(torch.int64)
            else:
                state[f"{name}.weight.scale"] = torch.tensor([weight.q_scale()], dtype=torch.float64)
                state[f"{name}.weight.zero_point"] = torch.tensor([weight.q_zero_point()], dtype=torch.int64)
            if bias is not None:
                state[f"{name}.bias"] = bias
            layout["layers"].append(name)
    elif isinstance(config, (Int4WeightOnly, Int8Static)):
        from optimum.quanto import quantization_map

        layout["quanto_map"] = quantization_map(model)
    elif isinstance(config, Nf4):
        from loralab.quant.backends.bnb import nf4_layers

        layout["layers"] = [name for name, _ in nf4_layers(model)]
    return _dedupe({k: v.contiguous() for k, v in state.items()}), layout


def _dedupe(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Tied weights (embeddings = LM head) are stored once; `tie_weights()` restores the link on load."""
    seen: dict[tuple[int, int], str] = {}
    out = {}
    for key, value in state.items():
        ident = (value.data_ptr(), value.nbytes)
        if value.nbytes and ident in seen:
            continue
        seen[ident] = key
        out[key] = value
    return out


def import_state(skeleton, config, tensors: dict[str, torch.Tensor], layout: dict[str, Any], where: str):
    if isinstance(config, (Fp16, Bf16)):
        model = quantize(skeleton, config)
    elif uses_torchao(config):
        require("torchao", "quant", f"loading {where} (torchao-quantized)")
        from torchao.prototype.safetensors.safetensors_support import unflatten_tensor_state_dict

        tensors, leftover = unflatten_tensor_state_dict(tensors, layout["torchao"])
        if leftover:
            raise ModelError(f"{where}: tensors torchao could not place: {', '.join(sorted(leftover)[:5])}")
        _load(skeleton, tensors, where, assign=True)
        if isinstance(config, Int8Dynamic):
            compile_for_inference(skeleton)
        return skeleton
    elif isinstance(config, Int8Dynamic):
        model = _import_dynamic(skeleton, config, tensors, layout)
    elif isinstance(config, (Int4WeightOnly, Int8Static)):
        model = _import_quanto(skeleton, config, layout)
    elif isinstance(config, Nf4):
        consumed = set(tensors)
        model = _import_nf4(skeleton, config, tensors, layout)
        _load(model, tensors, where, consumed=consumed - set(tensors))
        return model
    else:
        raise ModelError(f"{where}: loading {config.kind} models is not supported")
    _load(model, tensors, where)
    return model


def _load(model, tensors, where: str, assign: bool = False, consumed: set[str] = frozenset()) -> None:
    result = model.load_state_dict(tensors, strict=False, assign=assign)
    if hasattr(model, "tie_weights"):
        model.tie_weights()
    tied = {k for k in result.missing_keys if k.endswith("lm_head.weight") or "decoder" in k}
    missing = [k for k in result.missing_keys if k not in tied and k not in consumed]
    if missing:
        raise ModelError(f"{where}: missing tensors {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")


def _import_dynamic(skeleton, config, tensors, layout):
    """torch.ao's own (version-1) state-dict loader packs `weight` (a quantized tensor) and `bias`."""
    from loralab.quant.backends.torch_dynamic import quantize_layers
    from loralab.quant.smoothing import restore_smoothed

    layers = layout.get("layers", [])
    if config.smooth:
        restore_smoothed(skeleton, layers)
    model = quantize_layers(skeleton.float(), layers, config.per_channel)
    for name in layers:
        values, scale, zero = (tensors.pop(f"{name}.weight.{k}") for k in ("int8", "scale", "zero_point"))
        if scale.numel() > 1:  # per-channel: one scale per output row (axis 0)
            tensors[f"{name}.weight"] = torch._make_per_channel_quantized_tensor(values, scale, zero, 0)
        else:
            tensors[f"{name}.weight"] = torch._make_per_tensor_quantized_tensor(values, float(scale), int(zero))
        tensors.setdefault(f"{name}.bias", None)
    return model


def _import_quanto(skeleton, config, layout):
    quanto = require("optimum.quanto", "quant", "loading an int4-weight-only / int8-static model", "optimum-quanto")

    from loralab.quant.backends.quanto import set_group_size

    qmap = layout.get("quanto_map", {})
    for name, spec in qmap.items():
        weights = None if spec["weights"] == "none" else spec["weights"]
        activations = None if spec["activations"] == "none" else spec["activations"]
        quanto.quantize(skeleton, weights=weights, activations=activations, include=[name])
    if isinstance(config, Int4WeightOnly):
        set_group_size(skeleton, list(qmap), config.group_size)
    return skeleton


def _import_nf4(skeleton, config, tensors, layout):
    bnb = require("bitsandbytes", "quant", "loading an nf4 model")

    from loralab.quant.backends.bnb import _set_module, disable_packed_path

    modules = dict(skeleton.named_modules())
    for name in layout.get("layers", []):
        linear = modules[name]
        new = bnb.nn.Linear4bit(linear.in_features, linear.out_features, bias=linear.bias is not None,
                                device="meta", compute_dtype=compute_dtype(config.compute_dtype),
                                compress_statistics=config.double_quant, quant_type="nf4")
        prefix = f"{name}.weight."
        stats = {k[len(prefix):]: tensors.pop(k) for k in [k for k in tensors if k.startswith(prefix)]}
        new.weight = bnb.nn.Params4bit.from_prequantized(
            tensors.pop(f"{name}.weight"), stats, requires_grad=False, device="cpu", module=new)
        if linear.bias is not None:
            new.bias = torch.nn.Parameter(tensors.pop(f"{name}.bias").float(), requires_grad=False)
        _set_module(skeleton, name, new)
    disable_packed_path(skeleton)
    return skeleton
