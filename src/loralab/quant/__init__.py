"""Post-training quantization: `quantize(model, config)`, save/load, and analysis (`inspect`)."""

from loralab.quant.api import quantize
from loralab.quant.configs import (
    Awq, Bf16, Fp16, Gptq, Int4WeightOnly, Int8Dynamic, Int8Static, Int8WeightOnly, Nf4, parse_quant,
)

__all__ = [
    "Awq", "Bf16", "Fp16", "Gptq", "Int4WeightOnly", "Int8Dynamic", "Int8Static", "Int8WeightOnly", "Nf4",
    "parse_quant", "quantize",
]
