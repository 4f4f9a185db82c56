"""Load a causal LM for inference: a base (fp32, or quantized post-training) or a trained adapter on its base.

A QLoRA adapter is put on the same 4-bit NF4 base it was trained on (unmerged: merging into a 4-bit base gives
garbage with bnb); a LoRA adapter on a float base is merged for speed. PEFT's PeftModel does the loading."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from loralab.errors import ConfigError
from loralab.models.adapters import apply_adapter, find_adapter, load_trained_base
from loralab.models.load import load_tokenizer, model_size_on_disk, resolve_model
from loralab.models.memory import parameter_bytes

QUANTIZE_CHOICES = ("none", "int8", "nf4")


@dataclass
class LoadedLM:
    model: object
    tokenizer: object
    adapter_dir: Path | None  # where a trained adapter (and its prompt format) lives
    quantization: str | None
    size_bytes: int  # stored weights: base (at its precision) + adapter


def load_lm(spec: str, quantize: str | None = None, adapter: str | None = None) -> LoadedLM:
    """`spec`: alias, model folder, trained run folder or adapter folder; `adapter`: a PEFT folder for `spec`."""
    quantize = None if quantize in (None, "none", "fp32") else quantize
    if quantize not in (None, *QUANTIZE_CHOICES):
        raise ConfigError(f"quantize '{quantize}': choose one of {', '.join(QUANTIZE_CHOICES)}")
    source = find_adapter(adapter or spec)
    if source is not None and adapter:
        source.base = spec  # an explicit base wins over the one recorded in adapter_config.json
    if source is None:
        return _load_base(spec, quantize)
    if quantize:
        raise ConfigError("quantize applies to a base model; a QLoRA adapter already runs on its own 4-bit base")
    return _load_adapter(source)


def _load_base(spec: str, quantize: str | None) -> LoadedLM:
    from transformers import AutoModelForCausalLM

    path = resolve_model(spec)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    size = model_size_on_disk(path) or parameter_bytes(model)["total"]
    if quantize:
        from loralab.quant.api import quantize as apply_quant

        model = apply_quant(model, "int8-dynamic" if quantize == "int8" else "nf4").eval()
        size = parameter_bytes(model)["total"]
    return LoadedLM(model, load_tokenizer(spec), None, quantize, size)


def _load_adapter(source) -> LoadedLM:
    from transformers import AutoModelForCausalLM

    # As in training, the LM head stays out of 4-bit: it is tied to the input embeddings.
    base = load_trained_base(AutoModelForCausalLM, source, resolve_model(source.base), keep_full=("lm_head",))
    base_bytes = parameter_bytes(base)["total"]
    model = apply_adapter(base, source)
    adapter_bytes = sum(p.stat().st_size for p in source.adapter_dir.glob("*.safetensors"))
    tokenizer_dir = source.adapter_dir if (source.adapter_dir / "tokenizer_config.json").is_file() else source.base
    qlora = source.method.get("kind") == "qlora"
    return LoadedLM(model, load_tokenizer(str(tokenizer_dir)), source.adapter_dir,
                    "nf4 (QLoRA base)" if qlora else None, base_bytes + adapter_bytes)
