"""Merge a trained LoRA/QLoRA adapter into its base and save a plain model folder (safetensors)."""

from __future__ import annotations

from pathlib import Path

from loralab.errors import ModelError
from loralab.models.adapters import find_adapter
from loralab.models.load import resolve_model


def merge_run(run_or_adapter: Path, out: Path) -> Path:
    """Merge into a full-precision base. For QLoRA the base is the original fp32 weights, never the 4-bit
    tensors (bnb merges into a 4-bit base give garbage after a forward); `loralab quantize RUN` merges into
    the weights dequantized from the 4-bit base instead, which is what the adapter was trained against."""
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from loralab.methods.train import save_pretrained_atomically

    source = find_adapter(run_or_adapter)
    if source is None:
        raise ModelError(f"{run_or_adapter}: no adapter found (expected RUNDIR/adapter/ or an adapter_config.json)")
    base = AutoModelForSequenceClassification.from_pretrained(
        resolve_model(source.base), num_labels=source.num_labels or 1, dtype="float32"
    )
    merged = PeftModel.from_pretrained(base, str(source.adapter_dir)).merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(str(source.adapter_dir))
    return save_pretrained_atomically(merged, tokenizer, Path(out))
