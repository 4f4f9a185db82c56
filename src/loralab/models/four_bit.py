"""The one 4-bit NF4/FP4 base builder (bitsandbytes): QLoRA training, QLoRA inference, dequantize-then-merge.

QLoRA is LoRA on a frozen 4-bit base (torchtune style: a flag, not a class hierarchy), so training, loading a
QLoRA run and merging it all build that base here, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from loralab.models.hardware import compute_dtype
from loralab.optional import require

# Task-head module names: kept trainable (modules_to_save) and out of 4-bit.
HEAD_NAMES = ("classifier", "pooler", "score")
# transformers matches skip patterns from the start of the full name or as a suffix, so nested head
# layers need their own suffix ("pooler" alone would not skip "bert.pooler.dense").
QUANT_SKIP = ("classifier", "pooler.dense", "score")


@dataclass(frozen=True)
class FourBitBase:
    """How the frozen base is stored. `keep_full`: modules left in full precision besides the heads
    (e.g. a causal LM's lm_head, tied to the input embeddings)."""

    quant_type: str = "nf4"
    double_quant: bool = True
    compute_dtype: str = "auto"  # models.hardware.compute_dtype: bfloat16 where it is fast, else float32
    keep_full: tuple[str, ...] = ()

    @classmethod
    def from_method(cls, method: dict, keep_full: tuple[str, ...] = ()) -> FourBitBase | None:
        """The base of a run's recorded method config (a dict with `kind`); None unless it is QLoRA."""
        if method.get("kind") != "qlora":
            return None
        return cls(method.get("quant_type", "nf4"), method.get("double_quant", True),
                   method.get("compute_dtype", "auto"), keep_full)

    def bnb_config(self):
        require("bitsandbytes", "quant", "4-bit bases (bitsandbytes >= 0.45, CPU and CUDA)")
        from transformers import BitsAndBytesConfig

        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=self.quant_type,
            bnb_4bit_use_double_quant=self.double_quant,
            bnb_4bit_compute_dtype=compute_dtype(self.compute_dtype),
            # A new head quantized to 4-bit cannot train (bnb asserts on its shape): keep heads in full precision.
            llm_int8_skip_modules=[*QUANT_SKIP, *self.keep_full],
        )

    def from_pretrained_kwargs(self) -> dict:
        return {"quantization_config": self.bnb_config(), "device_map": "cuda" if torch.cuda.is_available() else "cpu"}


def disable_packed_cpu_path(model) -> None:
    """bnb's packed 4-bit CPU kernel crashes in no-grad when in_features % 64 != 0: use the plain path there."""
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return
    for module in model.modules():
        if isinstance(module, Linear4bit) and module.in_features % 64 != 0:
            module.support_avx512bf16_for_cpu = False
