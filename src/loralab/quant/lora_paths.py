"""Quantizing a LoRA model: merge, then quantize.

A LoRA run merges into its full-precision base. An adapter trained on a 4-bit base (QLoRA) learned to correct
the *quantized* weights, so its base is dequantized from those 4-bit weights first (dequantize -> merge ->
requantize), not reloaded from the original fp32 checkpoint; `merge_base="original"` does the latter to
measure the difference. Merging into the 4-bit tensors directly is never done: bnb gives garbage after a forward.
"""

from __future__ import annotations

import torch

from loralab.errors import ConfigError, ModelError
from loralab.models.adapters import bnb_4bit_config, find_adapter
from loralab.models.load import load_tokenizer, resolve_model
from loralab.quant.loading import LoadedModel

MERGE_BASES = ("dequantized", "original")


def load_for_quantization(spec, merge_base: str = "dequantized") -> LoadedModel:
    """The float model to quantize: a LoRA/QLoRA run merged into its base, anything else loaded as is."""
    from loralab.quant.loading import load_model

    return merged_for_quantization(spec, merge_base) if find_adapter(spec) else load_model(spec)


def merged_for_quantization(spec, merge_base: str = "dequantized") -> LoadedModel:
    """The adapter of run `spec` merged into a float (fp32) copy of its base."""
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    if merge_base not in MERGE_BASES:
        raise ConfigError(f"merge_base must be one of {', '.join(MERGE_BASES)}, got '{merge_base}'")
    source = find_adapter(spec)
    if source is None:
        raise ModelError(f"{spec}: no adapter found (expected RUNDIR/adapter/ or an adapter_config.json)")
    kwargs = {"num_labels": source.num_labels or 1, "dtype": torch.float32}
    qlora = source.method.get("kind") == "qlora"
    if qlora and merge_base == "dequantized":
        kwargs["quantization_config"] = bnb_4bit_config(
            source.method.get("quant_type", "nf4"), source.method.get("double_quant", True),
            source.method.get("compute_dtype", "bfloat16"),
        )
        kwargs["device_map"] = "cpu"
    base = AutoModelForSequenceClassification.from_pretrained(resolve_model(source.base), **kwargs)
    if "quantization_config" in kwargs:
        base = base.dequantize().to(torch.float32)  # transformers' bnb dequantize: the weights QLoRA trained on
    merged = PeftModel.from_pretrained(base, str(source.adapter_dir)).merge_and_unload().eval()
    tokenizer = load_tokenizer(source.adapter_dir if (source.adapter_dir / "tokenizer_config.json").is_file() else source.base)
    return LoadedModel(tokenizer, merged, "sequence-classifier", str(spec), None)
