"""`loralab inspect`: load a model (or a saved quantized folder) and analyse its storage and quantization error."""

from __future__ import annotations

from typing import Any

from loralab.artifacts.merge import float_model
from loralab.artifacts.quantized import is_quantized_dir, load_quantized, source_of
from loralab.models.backbones import model_size_on_disk
from loralab.quant.inspect import analyze, float_weights
from loralab.quant.prepare import quantize_for_inference


def inspect_model(spec: str, quant=None, top: int = 5) -> dict[str, Any]:
    """`loralab inspect`: analyse a model, a quantized copy of it (`quant`), or a saved quantized folder
    (per-layer errors against the float model it was made from, when that can still be loaded)."""
    if is_quantized_dir(spec):
        loaded = load_quantized(spec)
        source = source_of(spec)
        reference = float_weights(float_model(source).model) if source else None
        return analyze(loaded.model, reference, model_size_on_disk(spec), top)
    loaded = float_model(spec)
    disk = model_size_on_disk(loaded.path) if loaded.path else None
    if quant is None:
        return analyze(loaded.model, None, disk, top)
    reference = float_weights(loaded.model)
    model = quantize_for_inference(loaded.model, loaded.tokenizer, quant, pairs=loaded.architecture == "sequence-classifier")
    return analyze(model, reference, None, top)
