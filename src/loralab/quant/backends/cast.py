"""fp16 / bf16: a plain dtype cast of every floating-point parameter and buffer."""

from __future__ import annotations

import torch

from loralab.models.hardware import warn_if_slow_bf16
from loralab.quant.configs import Bf16, Fp16
from loralab.quant.registry import register_backend


@register_backend(Fp16)
@register_backend(Bf16)
def apply(model, config, calibration=None):
    if isinstance(config, Bf16):
        warn_if_slow_bf16("the model's matmuls")
    return model.to(torch.float16 if isinstance(config, Fp16) else torch.bfloat16)
