"""Several PEFT LoRA adapters on one base model, switched per batch; safetensors weights only."""

from __future__ import annotations

from pathlib import Path

from loralab.errors import ConfigError, ModelError


def parse_adapter_specs(specs: list[str]) -> dict[str, Path]:
    """`name=path` strings (the --adapter option) to an ordered {name: folder}."""
    adapters: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ConfigError(f"--adapter '{spec}': expected name=path, e.g. --adapter scifact=runs/lora-1/adapter")
        if name in adapters:
            raise ConfigError(f"--adapter name '{name}' is given twice; each adapter needs its own name")
        adapters[name.strip()] = Path(path.strip()).expanduser()
    return adapters


def check_adapter_folder(name: str, folder: Path) -> None:
    """A PEFT folder with safetensors weights; pickled `adapter_model.bin` is refused (it can run code)."""
    if not (folder / "adapter_config.json").is_file():
        raise ModelError(f"adapter '{name}': {folder} has no adapter_config.json; pass a PEFT save_pretrained folder")
    if not (folder / "adapter_model.safetensors").is_file():
        found = ", ".join(sorted(p.name for p in folder.iterdir())) or "nothing"
        raise ModelError(
            f"adapter '{name}': {folder} has no adapter_model.safetensors (found: {found}); this server loads "
            "safetensors only: re-save with save_pretrained(..., safe_serialization=True)"
        )


def check_safetensors_model(resolved: str) -> None:
    """A local model folder must carry .safetensors weights; hub ids are left to transformers."""
    folder = Path(resolved)
    if folder.is_dir() and not any(folder.glob("*.safetensors")):
        raise ModelError(
            f"{folder} has no .safetensors weights; this server loads safetensors only (re-save the model "
            "with save_pretrained(..., safe_serialization=True))"
        )


def attach_adapters(model, adapters: dict[str, Path]):
    """Wrap `model` in a PeftModel holding every adapter (none active yet); returns the wrapper."""
    from peft import PeftModel

    for name, folder in adapters.items():
        check_adapter_folder(name, folder)
    peft_model = None
    for name, folder in adapters.items():
        try:
            if peft_model is None:
                peft_model = PeftModel.from_pretrained(model, str(folder), adapter_name=name, is_trainable=False)
            else:
                peft_model.load_adapter(str(folder), adapter_name=name, is_trainable=False)
        except (ValueError, RuntimeError, KeyError) as exc:
            raise ModelError(f"adapter '{name}' ({folder}) does not fit the base model: {exc}") from None
    return peft_model.eval()
