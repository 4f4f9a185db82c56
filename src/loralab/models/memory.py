"""Bytes actually stored by a model, including quantization metadata.

`get_memory_footprint()` ignores bitsandbytes' quant_state (absmax, nested scales, code book) and reports
tensor subclasses (torchao, optimum-quanto) at their logical float size, so count every stored tensor ourselves.
"""

from __future__ import annotations

import torch


def _quant_state_bytes(state, seen: set[int]) -> int:
    """Scales and offsets; a code book shared between layers is stored once, so count it once."""
    if state is None:
        return 0
    total = 0
    for name in ("absmax", "code", "offset"):
        value = getattr(state, name, None)
        if isinstance(value, torch.Tensor) and value.data_ptr() not in seen:
            seen.add(value.data_ptr())
            total += value.nbytes
    return total + _quant_state_bytes(getattr(state, "state2", None), seen)


def tensor_bytes(tensor: torch.Tensor) -> int:
    """Stored bytes: a tensor subclass (torchao, quanto) is the sum of its inner tensors (data, scales, ...)."""
    if type(tensor) in (torch.Tensor, torch.nn.Parameter) or not hasattr(tensor, "__tensor_flatten__"):
        if tensor.is_quantized:  # torch.ao quantized tensor: int8 values + per-tensor/channel scales
            scales = 16 if tensor.qscheme() in (torch.per_tensor_affine, torch.per_tensor_symmetric) else (
                tensor.q_per_channel_scales().nbytes + tensor.q_per_channel_zero_points().nbytes)
            return tensor.numel() * tensor.element_size() + scales
        return tensor.nbytes
    names, _ = tensor.__tensor_flatten__()
    return sum(tensor_bytes(getattr(tensor, name)) for name in names if getattr(tensor, name, None) is not None)


def _is_quantized(param: torch.Tensor) -> bool:
    return getattr(param, "quant_state", None) is not None or (
        type(param.data) is not torch.Tensor and hasattr(param.data, "__tensor_flatten__")
    )


def parameter_bytes(model) -> dict[str, int]:
    """{'total', 'quantized_linear', 'quantized_linear_fp32_equiv'} in bytes."""
    total = quant = quant_equiv = 0
    seen: set[int] = set()
    seen_state: set[int] = set()
    for param in model.parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        state = getattr(param, "quant_state", None)
        nbytes = tensor_bytes(param.data) + _quant_state_bytes(state, seen_state)
        total += nbytes
        if _is_quantized(param):
            quant += nbytes
            quant_equiv += (int(torch.Size(state.shape).numel()) if state is not None else param.numel()) * 4
    for module in model.modules():  # torch.ao dynamic-quantized linears keep weights in packed params
        packed = getattr(module, "_packed_params", None)
        if packed is not None and hasattr(packed, "_weight_bias"):
            weight, bias = packed._weight_bias()
            nbytes = tensor_bytes(weight) + (bias.nbytes if bias is not None else 0)
            total, quant, quant_equiv = total + nbytes, quant + nbytes, quant_equiv + weight.numel() * 4
    for buffer in model.buffers():
        total += tensor_bytes(buffer)
    return {"total": total, "quantized_linear": quant, "quantized_linear_fp32_equiv": quant_equiv}
