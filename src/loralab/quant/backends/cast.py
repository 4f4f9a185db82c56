"""fp16 / bf16: a plain dtype cast of every floating-point parameter and buffer."""

from __future__ import annotations

import torch

from loralab.quant.configs import Bf16, Fp16
from loralab.quant.registry import register_backend


@register_backend(Fp16)
@register_backend(Bf16)
def apply(model, config, calibration=None):
    return model.to(torch.float16 if isinstance(config, Fp16) else torch.bfloat16)
