"""fp16 / bf16: a plain dtype cast of every floating-point parameter and buffer."""

from __future__ import annotations

import torch

from loralab.quant.api import Bf16, Fp16


def apply(model, config, calibration=None):
    if not isinstance(config, (Fp16, Bf16)):
        return None
    return model.to(torch.float16 if isinstance(config, Fp16) else torch.bfloat16)
