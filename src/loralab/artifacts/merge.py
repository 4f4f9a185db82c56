"""The one merge: a LoRA/QLoRA run's adapter folded into a float copy of its base, for the task it was trained for.

A LoRA run merges into its full-precision base. An adapter trained on a 4-bit base (QLoRA) learned to correct the
*quantized* weights, so for quantization its base is dequantized from those 4-bit weights first (dequantize ->
merge -> requantize, `base="dequantized"`); `base="original"` merges into the original fp32 weights instead
(what `loralab merge` saves, and what measures the difference). Merging into the 4-bit tensors directly is never
done: bnb gives garbage after a forward.
"""

from __future__ import annotations

from pathlib import Path

import torch

from loralab.artifacts.adapters import find_adapter
from loralab.artifacts.atomic import save_pretrained_atomically
from loralab.artifacts.load import _factory, _kwargs, load, load_tokenizer, resolve_model
from loralab.artifacts.loaded import LoadedModel
from loralab.errors import ConfigError, ModelError
from loralab.models.four_bit import FourBitBase

MERGE_BASES = ("dequantized", "original")


def merged(spec: str | Path, base: str = "dequantized") -> LoadedModel:
    """The adapter of `spec` merged into a float (fp32) copy of its base; the head is the run's own."""
    from peft import PeftModel

    if base not in MERGE_BASES:
        raise ConfigError(f"merge base must be one of {', '.join(MERGE_BASES)}, got '{base}'")
    source = find_adapter(spec)
    if source is None:
        raise ModelError(f"{spec}: no adapter found (expected RUNDIR/adapter/ or an adapter_config.json)")
    head = source.run.head if source.run is not None else "sequence-classifier"
    if head == "siamese":
        return _merged_siamese(spec, source, base)
    kwargs = _kwargs(head, source.num_labels or 1, "float32")
    four_bit = FourBitBase.from_method(source.method, ("lm_head",) if head == "causal-lm" else ())
    if four_bit is not None and base == "dequantized":
        kwargs |= {**four_bit.from_pretrained_kwargs(), "device_map": "cpu"}
    model = _factory(head).from_pretrained(resolve_model(source.base), **kwargs)
    if "quantization_config" in kwargs:
        model = model.dequantize().to(torch.float32)  # transformers' bnb dequantize: the weights QLoRA trained on
    model = PeftModel.from_pretrained(model, str(source.adapter_dir)).merge_and_unload().eval()
    return LoadedModel(load_tokenizer(spec), model, head, str(spec), None, source.run)


def _merged_siamese(spec, source, base: str) -> LoadedModel:
    """A preference run: its shared encoder merged into the original fp32 encoder, its pair head as trained."""
    from peft import PeftModel

    from loralab.models.siamese import SiamesePreferenceModel, load_head, read_head_config

    if source.qlora and base == "dequantized":
        raise ConfigError(f"{spec}: a QLoRA preference run merges into its original fp32 encoder only "
                          "(`loralab merge`); its 4-bit base cannot be dequantized inside the Siamese model here")
    encoder = _factory("encoder").from_pretrained(resolve_model(source.base), dtype=torch.float32)
    encoder = PeftModel.from_pretrained(encoder, str(source.adapter_dir)).merge_and_unload().eval()
    model = SiamesePreferenceModel(encoder, encoder.config.hidden_size, read_head_config(source.adapter_dir))
    load_head(model, source.adapter_dir)
    return LoadedModel(load_tokenizer(spec), model.eval(), "siamese", str(spec), None, source.run)


def merge_run(spec: str | Path, out: str | Path, base: str = "original") -> Path:
    """Save the run merged into a float base as a plain model folder (safetensors); `loralab merge` uses the
    original fp32 base.

    A re-ranking or classification run becomes a sequence classifier, a regress/sft run a causal LM, a preference
    run its encoder plus the pair head files."""
    model = merged(spec, base=base)
    extra = None
    if model.head == "siamese":
        from loralab.models.siamese import save_head

        siamese = model.model
        extra, model.model = (lambda folder: save_head(siamese, folder)), siamese.encoder
    return save_pretrained_atomically(model.model, model.tokenizer, Path(out), extra=extra)


def float_model(spec: str | Path, merge_base: str = "dequantized") -> LoadedModel:
    """The float model to quantize or inspect: a LoRA/QLoRA run merged into its base, anything else as saved."""
    return merged(spec, merge_base) if find_adapter(spec) is not None else load(spec)
