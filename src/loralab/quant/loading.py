"""Load any model loralab knows (alias, folder, GGUF, LoRA run, saved quantized folder) for quantization."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loralab.errors import ModelError


@dataclass
class LoadedModel:
    tokenizer: Any
    model: Any
    architecture: str  # "sequence-classifier", "causal-lm" or "encoder"
    source: str  # the spec it was loaded from
    path: str | None  # a local folder, when there is one (for bytes on disk)


def architecture_of(resolved: str) -> str:
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(resolved)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model config of '{resolved}': {exc}") from None
    names = " ".join(config.architectures or [])
    if "ForCausalLM" in names:
        return "causal-lm"
    if "ForSequenceClassification" in names:
        return "sequence-classifier"
    return "encoder"


def load_model(spec: str | Path, architecture: str | None = None, dtype: str = "float32") -> LoadedModel:
    """A float model (or a saved quantized one); LoRA runs come back merged into their base."""
    from transformers import AutoModel, AutoModelForCausalLM

    from loralab.models.adapters import find_adapter
    from loralab.models.load import load_sequence_classifier, load_tokenizer, resolve_model
    from loralab.quant.io import is_quantized_dir, load_quantized

    text = str(spec)
    if is_quantized_dir(text):
        return load_quantized(text)
    if find_adapter(text) is not None:
        tokenizer, model, _ = load_sequence_classifier(text, dtype=dtype)
        return LoadedModel(tokenizer, model, "sequence-classifier", text, None)
    resolved = resolve_model(text)
    architecture = architecture or architecture_of(resolved)
    if architecture == "sequence-classifier":
        tokenizer, model, _ = load_sequence_classifier(text, dtype=dtype)
    else:
        factory = AutoModelForCausalLM if architecture == "causal-lm" else AutoModel
        try:
            model = factory.from_pretrained(resolved, dtype=dtype).eval()
        except OSError as exc:
            raise ModelError(f"cannot load model '{spec}' ({resolved}): {exc}") from None
        tokenizer = load_tokenizer(text)
    return LoadedModel(tokenizer, model, architecture, text, resolved if Path(resolved).is_dir() else None)
