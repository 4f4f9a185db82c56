"""Resolve a backbone spec (alias, local folder, GGUF file or hub id) and load it with transformers."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from loralab.errors import ModelError
from loralab.models.packaged import PACKAGED

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def cache_dir() -> Path:
    return Path(os.environ.get("LORALAB_CACHE", Path.home() / ".cache" / "loralab"))


def resolve_model(spec: str | Path) -> str:
    """A local folder for aliases, folders and GGUF files; a hub id is passed through unchanged."""
    text = str(spec)
    from loralab.models.adapters import find_adapter, full_model_dir

    if (model_dir := full_model_dir(text)) is not None:
        return str(model_dir)
    if (adapter := find_adapter(text)) is not None:
        return resolve_model(adapter.base)
    if text in PACKAGED:
        path = PACKAGED[text].require()
        return str(gguf_to_folder(path, name=text) if path.suffix == ".gguf" else path)
    path = Path(text).expanduser()
    if path.suffix == ".gguf":
        if not path.is_file():
            raise ModelError(f"{path}: GGUF file not found")
        return str(gguf_to_folder(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path}: not a model folder (no config.json); pass a save_pretrained folder")
        return str(path)
    looks_like_path = text.startswith((".", "/", "~")) or text.count("/") > 1
    if looks_like_path:
        raise ModelError(f"{path}: model path not found")
    if "/" not in text:
        raise ModelError(
            f"unknown model '{text}': not a packaged alias ({', '.join(PACKAGED)}), not a local folder, "
            "and not a hub id of the form owner/name"
        )
    return text  # hub id: transformers resolves it (needs network or a warm HF cache)


def gguf_to_folder(gguf_path: Path, name: str | None = None) -> Path:
    """Dequantize a GGUF once into a safetensors folder under the cache dir and return that folder."""
    stat = gguf_path.stat()
    target = cache_dir() / "models" / f"{name or gguf_path.stem}-{stat.st_size}"
    if (target / "config.json").is_file():
        return target
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name, dtype="float32")
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except ImportError as exc:
        raise ModelError(f"{gguf_path}: reading GGUF needs the 'gguf' package (pip install gguf): {exc}") from None
    except Exception as exc:  # noqa: BLE001 - transformers raises many types for a bad file
        raise ModelError(f"{gguf_path}: cannot load GGUF ({type(exc).__name__}: {exc})") from None
    # The dequantized weights are plain fp32 now; the GGUF "quantizer" and its config would block
    # save_pretrained and mislead later loaders.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (target / "config.json").is_file():  # another process may have won the race
            raise
    return target


def model_size_on_disk(path: str | Path) -> int | None:
    """Bytes of weight files in a model folder (None for hub ids or missing paths)."""
    folder = Path(path)
    if folder.is_file():
        return folder.stat().st_size
    if not folder.is_dir():
        return None
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES))


def _from_pretrained(factory, spec: str | Path, **kwargs):
    resolved = resolve_model(spec)
    try:
        return resolved, factory.from_pretrained(resolved, **kwargs)
    except OSError as exc:
        raise ModelError(f"cannot load model '{spec}' ({resolved}): {exc}") from None


def _adapter_tokenizer(adapter):
    from transformers import AutoTokenizer

    if (adapter.adapter_dir / "tokenizer_config.json").is_file():
        return AutoTokenizer.from_pretrained(str(adapter.adapter_dir))
    return load_tokenizer(adapter.base)


def load_tokenizer(spec: str | Path):
    from transformers import AutoTokenizer

    return _from_pretrained(AutoTokenizer, spec)[1]


def load_encoder(spec: str | Path, dtype: str = "float32"):
    """(tokenizer, AutoModel) for embedding."""
    from transformers import AutoModel

    _, model = _from_pretrained(AutoModel, spec, dtype=dtype)
    return load_tokenizer(spec), model.eval()


def load_sequence_classifier(spec: str | Path, num_labels: int = 1, dtype: str = "float32"):
    """(tokenizer, AutoModelForSequenceClassification, head_is_new).

    A folder without a classification head (a plain encoder) gets a new, untrained one: head_is_new says so.
    """
    from transformers import AutoModelForSequenceClassification

    from loralab.models.adapters import find_adapter, load_adapter_classifier

    if (adapter := find_adapter(spec)) is not None:
        model = load_adapter_classifier(adapter, resolve_model(adapter.base), num_labels, dtype)
        return _adapter_tokenizer(adapter), model, False
    _, (model, info) = _from_pretrained(
        AutoModelForSequenceClassification, spec, num_labels=num_labels, dtype=dtype, output_loading_info=True
    )
    head_is_new = bool(info.get("missing_keys"))
    return load_tokenizer(spec), model.eval(), head_is_new


def load_causal_lm(spec: str | Path, dtype: str = "float32"):
    """(tokenizer, AutoModelForCausalLM) for prompt-based scoring and generation."""
    from transformers import AutoModelForCausalLM

    _, model = _from_pretrained(AutoModelForCausalLM, spec, dtype=dtype)
    return load_tokenizer(spec), model.eval()
