"""Bytes actually stored by a model, including 4-bit quantization metadata.

`get_memory_footprint()` ignores bitsandbytes' quant_state (absmax, nested scales, code book), so count
every tensor ourselves.
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
        nbytes = param.data.nbytes + _quant_state_bytes(state, seen_state)
        total += nbytes
        if state is not None:
            quant += nbytes
            quant_equiv += int(torch.Size(state.shape).numel()) * 4
    for buffer in model.buffers():
        total += buffer.nbytes
    return {"total": total, "quantized_linear": quant, "quantized_linear_fp32_equiv": quant_equiv}
