"""Save and load quantized models: safetensors only (never pickle), with the quantization config recorded.

A folder holds `config.json` (the model's), the tokenizer, `model.safetensors` and `loralab_quant.json`
(quantization config, architecture, source, backend layout). Loading builds the architecture from its config,
re-applies the same quantization structure, then loads the stored quantized tensors (no re-quantization).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import torch

from loralab.artifacts.loaded import QUANT_MARKER, LoadedModel
from loralab.errors import ModelError, QuantizationError
from loralab.quant.api import quant_config_of
from loralab.quant.configs import Awq, Gptq, config_to_dict, parse_quant
from loralab.quant import layouts

MARKER = QUANT_MARKER
WEIGHTS = "model.safetensors"


def is_quantized_dir(path: str | Path) -> bool:
    return (Path(str(path)) / MARKER).is_file()


def save_quantized(loaded, out: str | Path) -> Path:
    """Write `loaded` (a LoadedModel whose model went through `quantize`) to `out`, atomically."""
    from safetensors.torch import save_file

    model, config = loaded.model, quant_config_of(loaded.model)
    if config is None:
        raise QuantizationError("save_quantized: the model was not quantized by loralab.quant.quantize")
    if isinstance(config, (Gptq, Awq)):
        raise QuantizationError(f"saving {config.kind} models is not supported yet; save the float model instead")
    tensors, layout = layouts.export_state(model, config)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt", "loralab_quant": json.dumps(layout)})
        model_config = copy_config(model.config)
        model_config.save_pretrained(tmp)
        if loaded.tokenizer is not None:
            loaded.tokenizer.save_pretrained(tmp)
        marker = {"format": 1, "quantization": config_to_dict(config), "architecture": loaded.architecture,
                  "source": loaded.source, "layout": layout}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_marker(path: str | Path) -> dict:
    """What a quantized folder records (quantization, architecture, source, layout), without loading weights."""
    marker = Path(str(path)) / MARKER
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{marker}: not a readable loralab quantization record ({type(exc).__name__}: {exc})") from None


def source_of(path: str | Path) -> str | None:
    """The model a quantized folder was made from, if it still exists here (a path) or is an alias/hub id."""
    source = read_marker(path).get("source")
    if not source:
        return None
    from loralab.models.packaged import PACKAGED

    return source if source in PACKAGED or Path(source).exists() else None


def copy_config(config):
    config = type(config).from_dict(config.to_dict())
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    return config


def load_quantized(path: str | Path):
    """The quantized model saved by `save_quantized`, as a LoadedModel (stored tensors, no re-quantization)."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoTokenizer

    folder = Path(str(path))
    marker = read_marker(folder)
    try:
        config = parse_quant(marker["quantization"], where=str(folder / MARKER))
        tensors = load_file(str(folder / WEIGHTS))
        model_config = AutoConfig.from_pretrained(str(folder))
    except (OSError, KeyError, ValueError) as exc:
        raise ModelError(f"{folder}: not a readable loralab quantized model folder ({type(exc).__name__}: {exc})") from None
    skeleton = _skeleton(model_config, marker.get("architecture", "encoder"))
    model = layouts.import_state(skeleton, config, tensors, marker.get("layout", {}), where=str(folder / WEIGHTS))
    model.loralab_quant = config
    tokenizer = AutoTokenizer.from_pretrained(str(folder)) if (folder / "tokenizer_config.json").is_file() else None
    return LoadedModel(tokenizer, model.eval(), marker.get("architecture", "encoder"), str(folder), str(folder),
                       quantization=config.kind)


def _skeleton(model_config, architecture: str):
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForSequenceClassification

    factory = {"causal-lm": AutoModelForCausalLM, "sequence-classifier": AutoModelForSequenceClassification}.get(
        architecture, AutoModel)
    with torch.device("cpu"):
        return factory.from_config(model_config, dtype=torch.float32)
