"""Trained runs and PEFT adapters as backbones: `--model RUNDIR` or `--model path/to/adapter` just works.

A run folder holds `train_config.json` plus `adapter/` (LoRA, QLoRA) or `model/` (full fine-tuning).
A QLoRA adapter is loaded onto the same 4-bit base it was trained on, so evaluation measures what was trained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from loralab.errors import MissingDependencyError, ModelError

HEAD_NAMES = ("classifier", "pooler", "score")
# transformers matches skip patterns from the start of the full name or as a suffix, so nested head
# layers need their own suffix ("pooler" alone would not skip "bert.pooler.dense").
QUANT_SKIP = ("classifier", "pooler.dense", "score")


@dataclass
class AdapterSource:
    base: str  # backbone spec (alias, folder or hub id)
    adapter_dir: Path
    method: dict  # the run's method config ({} for a bare adapter)
    num_labels: int | None = None


def find_adapter(spec: str | Path) -> AdapterSource | None:
    path = Path(str(spec))
    config_file = path / "train_config.json"
    if config_file.is_file() and (path / "adapter" / "adapter_config.json").is_file():
        config = json.loads(config_file.read_text())
        return AdapterSource(config["train"]["model"], path / "adapter", config["method"], config.get("num_labels"))
    if (path / "adapter_config.json").is_file():
        base = json.loads((path / "adapter_config.json").read_text()).get("base_model_name_or_path")
        if not base:
            raise ModelError(f"{path}/adapter_config.json: no base_model_name_or_path; cannot tell which base to load")
        return AdapterSource(base, path, {})
    return None


def full_model_dir(spec: str | Path) -> Path | None:
    """`RUNDIR/model` for a full fine-tuning run, else None."""
    path = Path(str(spec))
    if (path / "train_config.json").is_file() and (path / "model" / "config.json").is_file():
        return path / "model"
    return None


def bnb_4bit_config(quant_type: str = "nf4", double_quant: bool = True, compute_dtype: str = "bfloat16"):
    try:
        import bitsandbytes  # noqa: F401
        from transformers import BitsAndBytesConfig
    except ImportError:
        raise MissingDependencyError("4-bit bases need bitsandbytes >= 0.45 (CPU and CUDA): pip install bitsandbytes") from None
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type=quant_type,
        bnb_4bit_use_double_quant=double_quant,
        bnb_4bit_compute_dtype=getattr(torch, compute_dtype),
        # A new head quantized to 4-bit cannot train (bnb asserts on its shape): keep heads in full precision.
        llm_int8_skip_modules=list(QUANT_SKIP),
    )


def disable_packed_cpu_path(model) -> None:
    """bnb's packed 4-bit CPU kernel crashes in no-grad when in_features % 64 != 0: use the plain path there."""
    try:
        from bitsandbytes.nn import Linear4bit
    except ImportError:
        return
    for module in model.modules():
        if isinstance(module, Linear4bit) and module.in_features % 64 != 0:
            module.support_avx512bf16_for_cpu = False


def load_trained_base(factory, source: AdapterSource, base_path: str, keep_full: tuple[str, ...] = (), **kwargs):
    """The base an adapter was trained on: float, or for a QLoRA run the same 4-bit NF4 base
    (`keep_full`: modules training kept out of 4-bit, e.g. a causal LM's tied lm_head)."""
    kwargs.setdefault("dtype", torch.float32)
    quantized = source.method.get("kind") == "qlora"
    if quantized:
        config = bnb_4bit_config(
            source.method.get("quant_type", "nf4"), source.method.get("double_quant", True),
            source.method.get("compute_dtype", "bfloat16"),
        )
        config.llm_int8_skip_modules += list(keep_full)
        kwargs |= {"quantization_config": config, "device_map": "cuda" if torch.cuda.is_available() else "cpu"}
    base = factory.from_pretrained(base_path, **kwargs)
    if quantized:
        disable_packed_cpu_path(base)
    return base


def apply_adapter(base, source: AdapterSource):
    """The adapter on `base`, in eval mode; LoRA on a full-precision base is merged for inference speed."""
    from peft import PeftModel

    model = PeftModel.from_pretrained(base, str(source.adapter_dir))
    # Merging into a 4-bit base after a forward pass gives garbage (bnb): keep QLoRA unmerged.
    return (model if source.method.get("kind") == "qlora" else model.merge_and_unload()).eval()


def load_adapter_classifier(source: AdapterSource, base_path: str, num_labels: int, dtype: str = "float32"):
    """A sequence classifier: the base with the adapter applied."""
    from transformers import AutoModelForSequenceClassification

    base = load_trained_base(AutoModelForSequenceClassification, source, base_path,
                             num_labels=source.num_labels or num_labels, dtype=getattr(torch, dtype))
    return apply_adapter(base, source)
