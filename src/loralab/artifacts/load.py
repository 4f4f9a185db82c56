"""The one way to load a model: `load(spec, head=..., quantize=..., dtype=...) -> LoadedModel`.

`spec` is anything loralab knows: a packaged alias, a local save_pretrained folder, a GGUF file, a hub id, a
trained run folder (LoRA/QLoRA adapter or full model), a bare PEFT adapter folder, or a folder saved by
`loralab quantize`. The head says what the model is for:

- `encoder`: AutoModel (embeddings);
- `sequence-classifier`: AutoModelForSequenceClassification (cross-encoder logit, classifier);
- `causal-lm`: AutoModelForCausalLM (prompting, price prediction, SFT);
- `siamese`: the preference model (a shared encoder and a pair head);
- `masked-lm`: AutoModelForMaskedLM (SPLADE's vocabulary-sized term weights).

A trained run knows its own head (from the task it was trained for); asking for another is an error.
"""

from __future__ import annotations

from pathlib import Path

import torch

from loralab.artifacts.loaded import HEADS, LoadedModel
from loralab.artifacts.adapters import AdapterSource, apply_adapter, find_adapter, load_trained_base
from loralab.artifacts.quantized import is_quantized_dir, load_quantized, read_marker
from loralab.artifacts.run_folder import RunFolder
from loralab.errors import ConfigError, ModelError, UntrainedHeadError
from loralab.models.backbones import resolve_backbone
from loralab.models.four_bit import FourBitBase, disable_packed_cpu_path



def resolve_model(spec: str | Path) -> str:
    """The local folder (or hub id) of the weights behind `spec`; a run or adapter resolves to its base."""
    run = RunFolder.open(spec)
    if run is not None and run.model_dir is not None:
        return str(run.model_dir)
    if (adapter := find_adapter(spec)) is not None:
        return resolve_model(adapter.base)
    return resolve_backbone(spec)


def load_tokenizer(spec: str | Path):
    """The tokenizer of any spec (a trained run's own, saved beside its adapter or model)."""
    from transformers import AutoTokenizer

    adapter = find_adapter(spec)
    if adapter is not None and (adapter.adapter_dir / "tokenizer_config.json").is_file():
        folder = str(adapter.adapter_dir)
    elif adapter is not None:
        return load_tokenizer(adapter.base)
    elif is_quantized_dir(spec):
        folder = str(spec)
    else:
        folder = resolve_model(spec)
    try:
        return AutoTokenizer.from_pretrained(folder)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot load the tokenizer of '{spec}' ({folder}): {exc}") from None


def head_of(spec: str | Path) -> str:
    """The head a spec is saved with: a run's task, a quantized folder's record, else its config's architecture."""
    run = RunFolder.open(spec)
    if run is not None:
        return run.head
    if is_quantized_dir(spec):
        return read_marker(spec).get("architecture", "encoder")
    from transformers import AutoConfig

    resolved = resolve_model(spec)
    try:
        config = AutoConfig.from_pretrained(resolved)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the model config of '{spec}' ({resolved}): {exc}") from None
    names = " ".join(config.architectures or [])
    if "ForCausalLM" in names:
        return "causal-lm"
    if "ForSequenceClassification" in names:
        return "sequence-classifier"
    return "encoder"


def load(spec: str | Path, *, head: str | None = None, num_labels: int | None = None, quantize=None,
         dtype: str = "float32", four_bit: FourBitBase | None = None, calibration_length: int = 256,
         base: str | None = None, allow_untrained_head: bool = False) -> LoadedModel:
    """Load `spec` for `head` (default: the head it was saved with), then quantize it post-training if asked.

    A sequence-classifier head that the weights do not hold is initialised at random; its scores are noise, so
    that is an error unless `allow_untrained_head` (training does; experiments may).
    `base`: for an adapter, the backbone to put it on instead of the one it records.
    `four_bit`: store a backbone's linear layers in 4-bit at load time (the QLoRA training base).
    `quantize`: a quantization spec (`int8-dynamic`, `nf4`, `int4-weight-only:group_size=32`, a config, ...).
    """
    text = str(spec)
    if head is not None and head not in HEADS:
        raise ConfigError(f"unknown head '{head}'; choose one of: {', '.join(HEADS)}")
    if is_quantized_dir(text):
        if quantize:
            kind = read_marker(text).get("quantization", {}).get("kind")
            raise ConfigError(f"{text}: already quantized ({kind}); load it as is")
        loaded = load_quantized(text)
        _check_head(loaded.head, head, text)
        return loaded
    run = RunFolder.open(text)
    if run is not None:
        _check_head(run.head, head, text)
        head = run.head
    head = head or head_of(text)
    if four_bit is not None and (run is not None or find_adapter(text) is not None):
        raise ConfigError(f"{text}: a 4-bit base is built for training a backbone, not for a trained run")
    loaded = _load_float(text, head, num_labels, dtype, four_bit, base)
    if loaded.head_is_new and not allow_untrained_head:
        raise UntrainedHeadError(untrained_head_message(text))
    if quantize in ("none", "fp32", "float32"):
        quantize = None
    if quantize:
        loaded = _quantized(loaded, quantize, calibration_length)
    return loaded


def untrained_head_message(spec: str) -> str:
    return (f"'{spec}' has no trained classification head (it holds an encoder only), so its relevance or "
            "class scores would be random. Use a trained model: a run folder of `loralab train --task rerank` "
            "(or --task classify), a study's winner/ folder, or a cross-encoder saved with its head; or pass "
            "--allow-untrained-head (option allow_untrained_head=true) to use the random head for an experiment")


def _check_head(saved: str, asked: str | None, where: str) -> None:
    if asked is not None and asked != saved:
        raise ConfigError(f"{where}: this model is a {saved}, not a {asked}; use it where a {saved} is expected "
                          "(a run's head is fixed by the task it was trained for)")


def _factory(head: str):
    from transformers import AutoModel, AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSequenceClassification

    return {"encoder": AutoModel, "sequence-classifier": AutoModelForSequenceClassification,
            "causal-lm": AutoModelForCausalLM, "siamese": AutoModel, "masked-lm": AutoModelForMaskedLM}[head]


def _kwargs(head: str, num_labels: int | None, dtype: str) -> dict:
    kwargs: dict = {"dtype": getattr(torch, dtype)}
    if head == "sequence-classifier" and num_labels is not None:
        kwargs["num_labels"] = num_labels
    return kwargs


def _load_float(text: str, head: str, num_labels: int | None, dtype: str, four_bit: FourBitBase | None,
                base: str | None = None) -> LoadedModel:
    run = RunFolder.open(text)
    adapter = find_adapter(text)
    if base is not None:
        if adapter is None:
            raise ConfigError(f"{text}: not an adapter (no adapter_config.json), so it cannot be put on {base}")
        adapter.base = base
    if head == "siamese":
        return _load_siamese(text, run, adapter, dtype)
    if adapter is not None:
        # As in training, a causal LM's head stays out of 4-bit: it is tied to the input embeddings.
        keep_full = ("lm_head",) if head == "causal-lm" else ()
        labels = adapter.num_labels or num_labels or 1
        base = load_trained_base(_factory(head), adapter, resolve_model(adapter.base), keep_full,
                                 **_kwargs(head, labels, dtype))
        model = apply_adapter(base, adapter)
        quantization = f"{adapter.method.get('quant_type', 'nf4')} (QLoRA base)" if adapter.qlora else None
        return LoadedModel(load_tokenizer(text), model, head, text, None, run, adapter, quantization=quantization)
    resolved = resolve_model(text)
    kwargs = _kwargs(head, (run.num_labels if run else None) or num_labels, dtype)
    if four_bit is not None:
        kwargs |= four_bit.from_pretrained_kwargs()
    try:
        model, info = _factory(head).from_pretrained(resolved, output_loading_info=True, **kwargs)
    except OSError as exc:
        raise ModelError(f"cannot load model '{text}' ({resolved}): {exc}") from None
    if four_bit is not None:
        disable_packed_cpu_path(model)
    head_is_new = head == "sequence-classifier" and any(
        key.split(".")[0] in ("classifier", "score") for key in info.get("missing_keys", []))
    path = resolved if Path(resolved).is_dir() else None
    return LoadedModel(load_tokenizer(text), model.eval(), head, text, path, run, head_is_new=head_is_new)


def _load_siamese(text: str, run: RunFolder | None, adapter: AdapterSource | None, dtype: str) -> LoadedModel:
    from loralab.models.siamese import HEAD_CONFIG, SiamesePreferenceModel, load_head, read_head_config

    folder = run.artifact_dir if run is not None else Path(text)
    if not (folder / HEAD_CONFIG).is_file():
        raise ModelError(f"{text}: not a preference model (expected a run folder of `loralab train --task preference`, "
                         f"or its adapter/ or model/ folder with {HEAD_CONFIG})")
    if adapter is not None:
        encoder = apply_adapter(load_trained_base(_factory("encoder"), adapter, resolve_model(adapter.base),
                                                  dtype=getattr(torch, dtype)), adapter)
    else:
        from transformers import AutoModel

        encoder = AutoModel.from_pretrained(str(folder), dtype=getattr(torch, dtype))
    model = SiamesePreferenceModel(encoder, encoder.config.hidden_size, read_head_config(folder))
    load_head(model, folder)
    quantization = "nf4 (QLoRA base)" if adapter is not None and adapter.qlora else None
    from transformers import AutoTokenizer

    return LoadedModel(AutoTokenizer.from_pretrained(str(folder)), model.eval(), "siamese", text, None, run, adapter,
                       quantization=quantization)


def _quantized(loaded: LoadedModel, spec, calibration_length: int) -> LoadedModel:
    from loralab.quant.configs import parse_quant
    from loralab.quant.prepare import quantize_for_inference

    if loaded.adapter is not None and loaded.adapter.qlora:
        raise ConfigError(f"{loaded.source}: a QLoRA run already runs on its 4-bit base; quantize its merged form "
                          f"with `loralab quantize {loaded.source} --method ... --out DIR` instead")
    config = parse_quant(spec, where=f"quantize {loaded.source}")
    loaded.model = quantize_for_inference(loaded.model, loaded.tokenizer, config, calibration_length,
                                          pairs=loaded.head == "sequence-classifier", where=loaded.source)
    loaded.model.eval()
    loaded.quantization = config.kind
    return loaded
